"""``hubci action`` run as the runner runs it: a subprocess with INPUT_* (hyphens kept),
GITHUB_*, an event payload, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the workspace as its
working directory, against the local Hub and the loopback GitHub fake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hubci.action.inputs import INPUTS, OUTPUTS
from hubci.server.embedded import embedded_hub
from testing.action_env import action_env, parse_outputs
from testing.github_fake import GitHubFake
from testing.hub import ALICE_TOKEN, TEST_BUILD_SECONDS, USERS

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hello-executor"
SHA = "0123456789abcdef0123456789abcdef01234567"
SENTINEL = "sentinel-7f3a9c1e5b2d8f40"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def new_workspace(tmp_path: Path) -> Path:
    """A workspace holding the example executor as ``hello``, committed."""
    ws = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, ws / "hello")
    _git(ws, "init", "-q", "-b", "main")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "executor")
    return ws


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return new_workspace(tmp_path)


def run_action(
    workspace: Path,
    inputs: Mapping[str, str],
    *,
    event: str,
    ref: str,
    payload: Mapping[str, object] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Run:
    runner = workspace.parent / "runner"
    runner.mkdir(exist_ok=True)
    (runner / "event.json").write_text(json.dumps(payload or {}))
    output, summary = runner / "output", runner / "summary.md"
    output.write_text("")
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env |= action_env(
        inputs,
        event=event,
        ref=ref,
        sha=SHA,
        workspace=str(workspace),
        event_path=str(runner / "event.json"),
        output=str(output),
        summary=str(summary),
    )
    env |= {"RUNNER_TEMP": str(runner), "NO_PROXY": "127.0.0.1,localhost", **(extra_env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "hubci", "action"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        parse_outputs(output.read_text()),
        summary.read_text(),
    )


def _pr_payload(number: int = 7) -> dict[str, object]:
    return {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": "feedface" * 5, "ref": "feature"},
            "base": {"ref": "main"},
        },
        "repository": {"default_branch": "main"},
    }


def run_pr(
    workspace: Path, inputs: Mapping[str, str], github: GitHubFake | None = None, number: int = 7
) -> Run:
    """``run_action`` for a ``pull_request`` event (reporting to ``github`` when given)."""
    return run_action(
        workspace,
        inputs,
        event="pull_request",
        ref=f"refs/pull/{number}/merge",
        payload=_pr_payload(number),
        extra_env={"GITHUB_API_URL": github.url} if github is not None else None,
    )


def test_action_yml_and_adapter_agree() -> None:
    meta = yaml.safe_load((REPO / "action.yml").read_text())
    assert tuple(meta["inputs"]) == INPUTS
    assert tuple(meta["outputs"]) == OUTPUTS
    assert meta["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_pull_request_validates_and_dry_runs(workspace: Path) -> None:
    run = run_pr(workspace, {"path": "hello"})
    assert run.code == 0, run.stdout + run.stderr
    assert set(run.outputs) == set(OUTPUTS)
    assert run.outputs["status"] == "validated"
    assert run.outputs["tags"] == "pr-7"
    assert run.outputs["task-id"] == ""
    assert "mode validate (from auto)" in run.stdout
    assert "## hubci validate" in run.summary
    result = json.loads(run.outputs["result-json"])
    assert result["executors"][0]["bundle"]["files"] > 0
    assert result["executors"][0]["status"] == "validated", "the same word as the status output"


def test_tag_push_publishes_with_tags_from_the_ref(workspace: Path, tmp_path: Path) -> None:
    with embedded_hub(
        data_dir=tmp_path / "hub", users=USERS, build_seconds=TEST_BUILD_SECONDS
    ) as hub:
        run = run_action(
            workspace,
            {
                "path": "hello",
                "token": ALICE_TOKEN,
                "hub-url": hub.url,
                "platforms": "linux/amd64\nlinux/arm64",
                "tags": "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}",
                "protected-tags": "type=semver,pattern={{version}}",
            },
            event="push",
            ref="refs/tags/v1.4.2",
        )
    assert run.code == 0, run.stdout + run.stderr
    out = run.outputs
    assert out["status"] == "succeeded"
    assert out["version"] == "1.4.2"
    assert out["name"] == "HelloExecutor"
    assert out["owner"] == "alice"
    assert out["visibility"] == "public"
    assert len(out["executor-id"]) == 8
    assert out["task-id"]
    assert out["tags"].splitlines()[0] == "1.4.2", "the version first"
    assert set(out["tags"].splitlines()) == {"1.4", "latest", "1.4.2"}
    assert out["uri"] == "jinaai://alice/HelloExecutor:1.4.2"
    assert out["docker-uri"] == "jinaai+docker://alice/HelloExecutor:1.4.2"
    assert "::group::" in run.stdout
    assert out["docker-uri"] in run.summary
    assert "linux/amd64, linux/arm64" in run.summary


def test_a_rerun_of_the_release_job_builds_nothing_with_the_same_outputs(
    workspace: Path, tmp_path: Path
) -> None:
    """ "Re-run jobs" on a tag (protected version tag included): the Hub has the build, so the
    run uploads nothing, succeeds, and gives the same executor outputs with status unchanged."""
    inputs = {
        "path": "hello",
        "token": ALICE_TOKEN,
        "tags": "type=semver,pattern={{version}}",
        "protected-tags": "type=semver,pattern={{version}}",
    }
    with embedded_hub(
        data_dir=tmp_path / "hub", users=USERS, build_seconds=TEST_BUILD_SECONDS
    ) as hub:
        first = run_action(
            workspace, {**inputs, "hub-url": hub.url}, event="push", ref="refs/tags/v2.0.0"
        )
        again = run_action(
            workspace, {**inputs, "hub-url": hub.url}, event="push", ref="refs/tags/v2.0.0"
        )
    assert first.code == 0, first.stdout + first.stderr
    assert again.code == 0, again.stdout + again.stderr
    assert first.outputs["status"] == "succeeded"
    assert again.outputs["status"] == "unchanged"
    for name in ("executor-id", "uri", "docker-uri", "tags", "version", "visibility"):
        assert again.outputs[name] == first.outputs[name], name
    assert "unchanged: tag(s)" in again.stdout
    assert "♻️" in again.summary


def test_failing_build_fails_the_job_and_says_why(workspace: Path, tmp_path: Path) -> None:
    with embedded_hub(
        data_dir=tmp_path / "hub",
        users=USERS,
        build_seconds=TEST_BUILD_SECONDS,
        faults=["fail-build:linux/amd64"],
    ) as hub:
        run = run_action(
            workspace,
            {"path": "hello", "token": ALICE_TOKEN, "hub-url": hub.url},
            event="push",
            ref="refs/heads/main",
        )
    assert run.code == 1, run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    assert "the build failed" in run.summary
    assert "::error title=hubci hello::the build failed" in run.stdout


def test_rehearse_needs_no_credentials(workspace: Path) -> None:
    run = run_pr(
        workspace, {"path": "hello", "mode": "rehearse", "platforms": "linux/amd64,linux/arm64"}
    )
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["status"] == "succeeded"
    assert run.outputs["tags"] == "pr-7"
    assert "builder: check" in run.summary
    assert "Use it" not in run.summary, "a rehearsal's Hub is gone after the job"


@pytest.mark.docker
def test_rehearse_builds_for_real_when_the_runner_has_an_engine(
    tmp_path: Path, docker_host: str
) -> None:
    from tests.image.conftest import write_executor

    ws = tmp_path / "workspace"
    write_executor(ws / "good")
    write_executor(ws / "broken").joinpath("Dockerfile").write_text(
        "FROM scratch\nCOPY config.yml /app/\nCOPY missing.txt /app/\n"
    )
    _git(ws, "init", "-q", "-b", "main")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "executors")
    run = run_action(
        ws,
        {"path": "good\nbroken", "mode": "rehearse", "platforms": "linux/amd64,linux/arm64"},
        event="pull_request",
        ref="refs/pull/7/merge",
        payload=_pr_payload(),
    )
    assert run.code == 1, run.stdout + run.stderr
    assert "with the docker builder" in run.stdout
    assert "builder: docker" in run.summary
    statuses = {e["path"]: e["status"] for e in json.loads(run.outputs["result-json"])["executors"]}
    assert statuses == {"good": "succeeded", "broken": "failed"}
    assert "COPY missing.txt /app/" in run.summary, "the summary names the failing step"


def test_push_without_token_is_a_usage_error(workspace: Path) -> None:
    run = run_action(workspace, {"path": "hello"}, event="push", ref="refs/heads/main")
    assert run.code == 2
    assert "::error title=hubci::the token input is empty" in run.stdout
    assert run.outputs["status"] == "failed"
    assert "the token input is empty" in run.summary


def test_validation_errors_annotate_and_stop(workspace: Path) -> None:
    (workspace / "hello" / "requirements.txt").write_text("numpy==${numpy_version}\n")
    run = run_action(
        workspace,
        {"path": "hello", "mode": "rehearse"},
        event="push",
        ref="refs/heads/main",
    )
    assert run.code == 2, run.stdout + run.stderr
    assert "::error file=hello/requirements.txt,line=1" in run.stdout
    assert run.outputs["status"] == "failed"
    assert "nothing was pushed" in run.summary


def test_sentinel_secret_appears_only_after_add_mask(workspace: Path, tmp_path: Path) -> None:
    users = {"alice": SENTINEL}
    with embedded_hub(
        data_dir=tmp_path / "hub", users=users, build_seconds=TEST_BUILD_SECONDS
    ) as hub:
        run = run_action(
            workspace,
            {
                "path": "hello",
                "token": SENTINEL,
                "hub-url": hub.url,
                "build-env": f"UNUSED_KEY={SENTINEL}-env",
                "github-token": f"{SENTINEL}-gh",
                "verbose": "true",
            },
            event="push",
            ref="refs/heads/main",
        )
        second = run_pr(
            workspace,
            {"path": "hello", "force-update": "HelloExecutor", "secret": f"{SENTINEL}-secret"},
        )
    assert run.code == 0, run.stdout + run.stderr
    assert second.code == 0, second.stdout + second.stderr
    for result in (run, second):
        masked = [ln for ln in result.stdout.splitlines() if ln.startswith("::add-mask::")]
        assert masked, "secrets are masked first"
        rest = [ln for ln in result.stdout.splitlines() if not ln.startswith("::add-mask::")]
        assert all(SENTINEL not in ln for ln in rest)
        assert SENTINEL not in result.stderr
        assert SENTINEL not in result.summary
        assert all(SENTINEL not in v for v in result.outputs.values())
        first_other = next(
            i for i, ln in enumerate(result.stdout.splitlines()) if not ln.startswith("::add")
        )
        assert first_other == len(masked), "nothing is printed before the masks"


def test_commit_status_and_sticky_comment(
    workspace: Path, tmp_path: Path, github_fake: GitHubFake
) -> None:
    for _ in range(2):
        run = run_pr(
            workspace,
            {"path": "hello", "mode": "rehearse", "github-token": "gh-token-123456"},
            github_fake,
        )
        assert run.code == 0, run.stdout + run.stderr
    states = [(s["context"], s["state"]) for s in github_fake.statuses]
    assert states == [("hubci/HelloExecutor", "pending"), ("hubci/HelloExecutor", "success")] * 2
    final = github_fake.statuses[-1]
    assert final["description"] == "rehearsed: built jinaai+docker://local/HelloExecutor:pr-7"
    # no Hub page for a rehearsal: the link opens the workflow run
    assert final["target_url"] == "http://127.0.0.1:9/octo-org/executors/actions/runs/42"
    comments = github_fake.comments[7]
    assert len(comments) == 1, "the sticky comment is edited, never duplicated"
    body = comments[0]["body"]
    assert "## hubci rehearse" in body


def test_bad_boolean_input_is_a_one_line_error(workspace: Path) -> None:
    run = run_action(
        workspace, {"path": "hello", "wait": "yes"}, event="push", ref="refs/heads/main"
    )
    assert run.code == 2
    assert "::error title=hubci::input wait: 'yes' is not a boolean" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    assert "input wait: 'yes' is not a boolean" in run.summary


def test_bad_build_env_line_never_shows_its_text(workspace: Path) -> None:
    run = run_action(
        workspace,
        {"path": "hello", "build-env": f"A=1\n{SENTINEL}", "token": "tok-0a1b2c3d"},
        event="push",
        ref="refs/heads/main",
    )
    assert run.code == 2
    # a one-character value is not masked: the runner would star out every "1" in the log
    assert f"::add-mask::{SENTINEL}" in run.stdout.splitlines()[:2]
    assert "input build-env: item 2 is not KEY=VALUE and not a valid build-env name" in run.stdout
    shown = [ln for ln in run.stdout.splitlines() if not ln.startswith("::add-mask::")]
    assert SENTINEL not in "\n".join(shown) + run.stderr + run.summary


def test_validation_errors_fail_only_the_broken_executor(
    workspace: Path, github_fake: GitHubFake
) -> None:
    broken = workspace / "broken"
    shutil.copytree(workspace / "hello", broken)
    (broken / "config.yml").write_text("jtype: Broken\nmetas:\n  py_modules: [missing.py]\n")
    run = run_pr(
        workspace, {"path": "hello, broken", "github-token": "gh-token-123456"}, github_fake
    )
    assert run.code == 2, run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    statuses = {e["path"]: e["status"] for e in json.loads(run.outputs["result-json"])["executors"]}
    assert statuses == {"hello": "skipped", "broken": "failed"}
    # the valid executor was neither pushed nor failed: it gets no commit status at all
    assert [(s["context"], s["state"]) for s in github_fake.statuses] == [
        ("hubci/Broken", "failure")
    ]
    assert github_fake.statuses[0]["description"].startswith("validation errors")


def test_missing_build_env_is_an_annotated_error(workspace: Path) -> None:
    (workspace / "hello" / "requirements.txt").write_text("numpy==${NUMPY_VERSION}\n")
    run = run_action(
        workspace, {"path": "hello", "mode": "rehearse"}, event="push", ref="refs/heads/main"
    )
    assert run.code == 2, run.stdout + run.stderr
    assert "::error file=hello/requirements.txt,line=1" in run.stdout
    assert "NUMPY_VERSION" in run.stdout


def test_fork_pull_request_read_only_token_warns_and_passes(
    workspace: Path, github_fake: GitHubFake
) -> None:
    github_fake.read_only = True
    run = run_pr(workspace, {"path": "hello", "github-token": "gh-read-only-token"}, github_fake)
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["status"] == "validated"
    warnings = [ln for ln in run.stdout.splitlines() if ln.startswith("::warning title=GitHub")]
    assert len(warnings) == 2, warnings  # one for statuses, one for the comment: not per call
    assert "permissions: statuses: write" in warnings[0]
    assert "permissions: pull-requests: write" in warnings[1]
    assert "gh-read-only-token" not in run.stdout.replace("::add-mask::gh-read-only-token", "")


def test_a_bad_platform_names_the_platforms_input(workspace: Path) -> None:
    run = run_pr(workspace, {"path": "hello", "platforms": "linux/amd64\nlinux/sparc"})
    assert run.code == 2
    assert "::error title=hubci::input platforms: unknown platform 'linux/sparc'" in run.stdout
    assert "input platforms: unknown platform" in run.summary
