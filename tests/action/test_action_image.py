"""The Action's image, built from the Dockerfile and run as GitHub's runner runs a container
action: workspace owned by another user, file commands, ``--network none``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from testing.action_image import ContainerRun, run_as_runner

# the first test also waits for the session's image: debootstrap and a build, minutes when cold
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hello-executor"
COMMITTED = "2021-02-03T04:05:06+00:00"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": COMMITTED,
    "GIT_COMMITTER_DATE": COMMITTED,
}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def workspace(tmp_path: Path) -> tuple[Path, str]:
    """A checkout holding the example executor as ``hello``, committed on a known date."""
    ws = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, ws / "hello")
    _git(ws, "init", "-q", "-b", "main")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "executor")
    return ws, _git(ws, "rev-parse", "HEAD")


CASES = {
    # (event, ref, mode): a tag push publishes (rehearsed here), a pull request validates
    "tag-rehearse": ("push", "refs/tags/v1.4.2", "rehearse"),
    "tag-validate": ("push", "refs/tags/v1.4.2", "validate"),
    "pr-rehearse": ("pull_request", "refs/pull/7/merge", "rehearse"),
    "pr-validate": ("pull_request", "refs/pull/7/merge", "validate"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_image_runs_as_the_runner_runs_it(
    docker_client: Any, action_image: str, tmp_path: Path, case: str
) -> None:
    event, ref, mode = CASES[case]
    ws, sha = workspace(tmp_path)
    payload: dict[str, object] = {"repository": {"default_branch": "main"}}
    if event == "pull_request":
        payload["pull_request"] = {"number": 7, "base": {"ref": "main"}}
        payload["number"] = 7
    # no date in the event: {{commit_date}} must come from git, in a workspace root does not own
    inputs = {
        "path": "hello",
        "mode": mode,
        "tags": "type=semver,pattern={{version}}\ntype=ref,event=pr\n"
        "type=raw,value=c{{commit_date 'YYYYMMDD'}}",
        "commit-status": "false",
        "pr-comment": "false",
    }
    run: ContainerRun = run_as_runner(
        docker_client,
        action_image,
        ws,
        inputs,
        event=event,
        ref=ref,
        sha=sha,
        payload=payload,
        runner_dir=tmp_path / "runner",
    )
    assert run.code == 0, run.log[-3000:]
    tags = run.outputs["tags"].splitlines()
    assert "c20210203" in tags, run.log[-2000:]  # the commit's date, read by git
    assert "unknown" not in run.log  # no "commit date unknown" warning
    if event == "push":
        assert tags[0] == "1.4.2"
        assert run.outputs["version"] == "1.4.2"
    else:
        assert "pr-7" in tags
    assert run.outputs["name"] == "HelloExecutor"
    if mode == "rehearse":
        assert run.outputs["status"] == "succeeded", run.log[-2000:]
        assert run.outputs["uri"].startswith("jinaai://")
        assert len(run.outputs["executor-id"]) == 8
    else:
        assert run.outputs["status"] == "validated"
    assert "::group::" in run.log
    assert "## hubci" in run.summary
    # nothing the container did left files owned by root in the runner's workspace
    owners = {p.stat().st_uid for p in ws.rglob("*")}
    assert owners == ({1001} if os.geteuid() == 0 else {os.geteuid()}), owners
