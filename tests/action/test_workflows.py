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


ACTIONS = [REPO / "action.yml", REPO / "setup" / "action.yml"]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_action_yml_matches_schema(action: Path) -> None:
    proc = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(action)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    """zizmor at its default persona, offline, with the repository's settings (the examples may
    call this Action by its major tag; everything else is pinned by SHA)."""
    proc = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-progress",
            "--config",
            str(REPO / ".github" / "zizmor.yml"),
            *map(str, ACTIONS),
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_release_workflow_least_privilege() -> None:
    """No workflow-wide permission; packages:write only where the image is pushed, contents:write
    only where tags move; no checkout keeps its credentials; main's action.yml builds the
    checkout, which the release commit replaces with the pushed image's digest."""
    import yaml

    doc = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    assert doc["permissions"] == {}
    grants = {name: job.get("permissions", {}) for name, job in doc["jobs"].items()}
    assert grants == {
        "test": {"contents": "read"},
        "image": {"contents": "read", "packages": "write"},
        "release": {"contents": "write"},
    }
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    action = (REPO / "action.yml").read_text()
    assert "\n  image: Dockerfile\n" in action  # the line the release step rewrites
    release = doc["jobs"]["release"]["steps"][-1]["run"]
    assert "s|^  image: Dockerfile$|" in release


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
            if not uses or uses.startswith(("./", "org/hub-push-action@", "org/hub-push-action/")):
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
