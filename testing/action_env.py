"""What GitHub's runner hands a container action, for the tests that run the Action: the
``INPUT_*`` and ``GITHUB_*`` environment, and the ``GITHUB_OUTPUT`` file read back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from hubci.action.inputs import INPUTS, env_name

REPO = Path(__file__).resolve().parent.parent


def action_env(
    inputs: Mapping[str, str],
    *,
    event: str,
    ref: str,
    sha: str,
    workspace: str,
    event_path: str,
    output: str,
    summary: str,
) -> dict[str, str]:
    """Every declared input (action.yml's default where unset, as the runner fills them in;
    an expression default such as ``${{ github.token }}`` arrives empty here), then the
    ``GITHUB_*`` variables of a run of ``event`` on ``ref``; paths as the action sees them."""
    defaults = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    env: dict[str, str] = {}
    for name in INPUTS:
        default = str(defaults[name].get("default", ""))
        env[env_name(name)] = "" if default.startswith("${{") else default
    env |= {env_name(k): v for k, v in inputs.items()}
    env |= {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": workspace,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": event_path,
        "GITHUB_REF": ref,
        "GITHUB_SHA": sha,
        "GITHUB_REPOSITORY": "octo-org/executors",
        "GITHUB_SERVER_URL": "http://127.0.0.1:9",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_RUN_ID": "42",
        "GITHUB_OUTPUT": output,
        "GITHUB_STEP_SUMMARY": summary,
    }
    if event.startswith("pull_request"):
        env |= {"GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature"}
    return env


def parse_outputs(text: str) -> dict[str, str]:
    """``name<<DELIM`` heredocs and ``name=value`` lines of a ``GITHUB_OUTPUT`` file."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value: list[str] = []
            for inner in lines:
                if inner == delim:
                    break
                value.append(inner)
            out[name] = "\n".join(value)
        else:
            name, _, val = line.partition("=")
            out[name] = val
    return out
