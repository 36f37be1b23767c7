"""The Action's defaults and the CLI's are the same values, defined once in hubci.rules, or
differ only where the table below says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from hubci import rules
from hubci.action import run as action_run
from hubci.action.inputs import read_inputs
from hubci.commands.push import push
from hubci.commands.status import status

REPO = Path(__file__).resolve().parents[2]
#: Inputs whose default differs from the push option of the same meaning, and why.
DOCUMENTED_DIFFERENCES = {
    # the Action runs on a GitHub event: it derives the tags from the ref by the default rules
    "tags",
    # "auto": validate on pull requests, push otherwise (the CLI has separate commands)
    "mode",
    # the Action's working directory is the workspace; the CLI needs a PATH argument
    "path",
}


def _option(command: click.Command, name: str) -> Any:
    """The option's default as click resolves it (a flag without one is False)."""
    param = next(p for p in command.params if p.name == name)
    value = param.get_default(click.Context(command))
    return False if value is None and getattr(param, "is_flag", False) else value


def _action_defaults() -> dict[str, str]:
    meta = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return {name: str(spec.get("default", "")) for name, spec in meta["inputs"].items()}


def test_timeouts_agree() -> None:
    defaults = _action_defaults()
    assert float(defaults["timeout"]) == rules.DEFAULT_TIMEOUT_SECONDS
    assert _option(push, "timeout") == rules.DEFAULT_TIMEOUT_SECONDS
    assert _option(status, "timeout") == rules.DEFAULT_TIMEOUT_SECONDS
    assert read_inputs({}).timeout == rules.DEFAULT_TIMEOUT_SECONDS  # an input left empty


def test_parallel_pushes_agree() -> None:
    assert _option(push, "jobs") == rules.DEFAULT_PARALLEL_PUSHES
    assert action_run.JOBS == rules.DEFAULT_PARALLEL_PUSHES


def test_skip_unchanged_agrees() -> None:
    assert _action_defaults()["skip-unchanged"] == "auto"
    assert _option(push, "skip_unchanged") == "auto"
    assert read_inputs({}).skip_unchanged == "auto"


def test_flags_default_off_in_both() -> None:
    defaults = _action_defaults()
    for name, option in (("no-cache", "no_cache"), ("verbose", "verbose")):
        assert defaults[name] == "false"
        assert _option(push, option) is False
    assert defaults["wait"] == "true"
    assert _option(push, "no_wait") is False
    assert not DOCUMENTED_DIFFERENCES & {"timeout", "no-cache", "verbose", "wait"}
    assert set(defaults) >= DOCUMENTED_DIFFERENCES
