"""The Action's metadata, its image and every shipped workflow pass their linters."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted([*REPO.glob(".github/workflows/*.yml"), *REPO.glob("examples/workflows/*.yml")])


def _tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def test_there_are_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "self-test.yml", "release.yml", "pull-request.yml"} <= names


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_workflow_matches_schema(workflow: Path) -> None:
    proc = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_yml_matches_schema() -> None:
    proc = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-actions",
            str(REPO / "action.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_is_hadolint_clean() -> None:
    proc = subprocess.run(
        [_tool("hadolint"), str(REPO / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_third_party_actions_are_pinned(workflow: Path) -> None:
    import yaml

    doc = yaml.safe_load(workflow.read_text())
    for job in doc["jobs"].values():
        assert "timeout-minutes" in job or "uses" in job, f"{workflow.name}: job without timeout"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if not uses or uses.startswith("./") or uses.startswith("org/hub-push-action@"):
                continue
            ref = uses.rsplit("@", 1)[1]
            assert len(ref) == 40, f"{workflow.name}: {uses} is not pinned by SHA"
