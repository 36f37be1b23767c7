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


def test_action_lock_pins_every_runtime_dependency() -> None:
    """The image installs requirements/action.txt (pip-compile of pyproject.toml), then hubci
    with --no-deps: every runtime dependency must be pinned there."""
    import re

    from packaging.requirements import Requirement

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = (REPO / "requirements" / "action.txt").read_text()
    pinned = {
        norm(m.group(1)): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.M)
    }
    for spec in project["dependencies"]:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.12"}):
            continue
        assert norm(req.name) in pinned, f"{req.name} is not in requirements/action.txt"
        assert req.specifier.contains(pinned[norm(req.name)]), (req, pinned[norm(req.name)])
    dockerfile = (REPO / "Dockerfile").read_text()
    assert (
        "pip install --no-cache-dir --require-hashes --no-deps -r "
        "/opt/hubci/requirements/action.txt" in dockerfile
    )
    assert "pip install --no-cache-dir --no-deps --no-build-isolation --no-index" in dockerfile
    # every pin has hashes, and hubci's own build requirement is locked too
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==\S+((?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)", lock, re.M
    )
    assert len(pins) == len(pinned)
    assert "setuptools" in pinned
    assert re.search(r"^ARG PYTHON_IMAGE=python:[^@\s]+@sha256:[0-9a-f]{64}$", dockerfile, re.M)
