"""Event context resolution: real temporary git repositories and GitHub env + payload files."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hubci.errors import ConfigError, UsageError
from hubci.tags import compute_tags, resolve_context

COMMIT_DATE = "2021-03-04T05:06:07+00:00"
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=timezone.utc)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Tags Test",
    "GIT_AUTHOR_EMAIL": "tags@example.invalid",
    "GIT_COMMITTER_NAME": "Tags Test",
    "GIT_COMMITTER_EMAIL": "tags@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run_git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return proc.stdout.strip()


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("DOCKER_METADATA_PR_HEAD_SHA", raising=False)
    monkeypatch.delenv("DOCKER_METADATA_SHORT_SHA_LENGTH", raising=False)


def commit(cwd: Path, message: str, date: str = COMMIT_DATE) -> str:
    (cwd / "file.txt").write_text(message, encoding="utf-8")
    run_git(cwd, "add", "file.txt")
    subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=cwd,
        check=True,
        env={**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        timeout=60,
    )
    return run_git(cwd, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    run_git(path, "init", "-q", "-b", "main")
    commit(path, "first")
    return path


def local(cwd: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("now", NOW)
    return resolve_context(env={}, cwd=cwd, **kwargs)


# -- local git -------------------------------------------------------------------------------------


def test_branch_checkout(repo: Path) -> None:
    ctx = local(repo)
    assert ctx.source == "git"
    assert ctx.ref == "refs/heads/main"
    assert ctx.sha == run_git(repo, "rev-parse", "HEAD")
    assert ctx.commit_date == datetime.fromisoformat(COMMIT_DATE)
    assert ctx.now == NOW
    assert ctx.event_name == ""
    assert ctx.default_branch is None
    assert compute_tags(None, None, None, ctx).tags == ("main",)


def test_branch_with_slashes(repo: Path) -> None:
    run_git(repo, "checkout", "-q", "-b", "feature/x#1")
    ctx = local(repo)
    assert ctx.ref == "refs/heads/feature/x#1"
    assert compute_tags(None, None, None, ctx).tags == ("feature-x-1",)


@pytest.mark.parametrize("annotated", [False, True])
def test_detached_at_tag(repo: Path, annotated: bool) -> None:
    sha = run_git(repo, "rev-parse", "HEAD")
    if annotated:
        run_git(repo, "tag", "-a", "-m", "release", "v1.2.3")
    else:
        run_git(repo, "tag", "v1.2.3")
    commit(repo, "second", "2022-01-01T00:00:00+00:00")
    run_git(repo, "checkout", "-q", "--detach", "v1.2.3")
    ctx = local(repo)
    assert ctx.ref == "refs/tags/v1.2.3"
    assert ctx.sha == sha
    assert ctx.commit_date == datetime.fromisoformat(COMMIT_DATE)
    plan = compute_tags(
        "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}", None, None, ctx
    )
    assert plan.tags == ("1.2.3", "1", "latest")


def test_branch_wins_over_tag_at_head(repo: Path) -> None:
    run_git(repo, "tag", "v1.0.0")
    assert local(repo).ref == "refs/heads/main"  # as metadata-action's git context


def test_detached_on_remote_branch(tmp_path: Path, repo: Path) -> None:
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    run_git(repo, "remote", "add", "origin", str(bare))
    run_git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature work")
    run_git(repo, "push", "-q", "origin", "main", "feature")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(bare), str(clone))
    run_git(clone, "checkout", "-q", "--detach", "origin/feature")
    ctx = local(clone)
    assert ctx.ref == "refs/heads/feature"
    assert ctx.repo_default_branch == "main"  # from origin/HEAD of the clone
    assert ctx.default_branch == "main"


def test_detached_on_pull_ref(repo: Path) -> None:
    commit(repo, "pr merge")
    run_git(repo, "update-ref", "refs/remotes/origin/pull/15/merge", "HEAD")
    run_git(repo, "checkout", "-q", "--detach", "HEAD")
    ctx = local(repo)
    assert ctx.ref == "refs/pull/15/merge"
    assert compute_tags(None, None, None, ctx).tags == ("pr-15",)


def test_detached_on_local_branch_only(repo: Path) -> None:
    run_git(repo, "branch", "other")
    run_git(repo, "checkout", "-q", "--detach", "other")
    assert local(repo).ref in ("refs/heads/main", "refs/heads/other")


def test_detached_without_any_name(repo: Path) -> None:
    commit(repo, "second")
    run_git(repo, "checkout", "-q", "--detach", "HEAD")
    run_git(repo, "branch", "-q", "-f", "main", "HEAD~1")
    with pytest.raises(UsageError, match=r"HEAD is detached at [0-9a-f]{12} and no tag or branch"):
        local(repo)


def test_unborn_branch(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q", "-b", "trunk")
    ctx = local(tmp_path)
    assert (ctx.ref, ctx.sha) == ("refs/heads/trunk", "")
    assert ctx.commit_date == NOW


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        local(tmp_path)
    message = info.value.format_message()
    assert "is not in a git repository" in message
    assert "--ref" in message
    assert info.value.exit_code == 2


def test_explicit_ref_without_repository(tmp_path: Path) -> None:
    ctx = local(tmp_path, ref="refs/tags/v1.0.0", sha="ABCDEF1234")
    assert (ctx.source, ctx.ref, ctx.sha) == ("explicit", "refs/tags/v1.0.0", "abcdef1234")
    assert ctx.commit_date == NOW
    with pytest.raises(UsageError, match=r"--ref 'v1\.0\.0' is not a full ref"):
        local(tmp_path, ref="v1.0.0")


def test_explicit_ref_names_in_repository(repo: Path) -> None:
    first = run_git(repo, "rev-parse", "HEAD")
    run_git(repo, "tag", "v1.0.0")
    commit(repo, "second", "2023-01-01T00:00:00+00:00")
    ctx = local(repo, ref="v1.0.0")
    assert ctx.ref == "refs/tags/v1.0.0"
    assert ctx.sha == first  # the tag's commit, not HEAD
    assert ctx.commit_date == datetime.fromisoformat(COMMIT_DATE)
    assert local(repo, ref="main").ref == "refs/heads/main"
    pr = local(repo, ref="refs/pull/7/merge")
    assert pr.sha == run_git(repo, "rev-parse", "HEAD")  # unknown ref locally: HEAD
    with pytest.raises(UsageError, match="names no local tag or branch"):
        local(repo, ref="nope")


def test_explicit_sha(repo: Path) -> None:
    assert local(repo, sha="0123456789abcdef").sha == "0123456789abcdef"
    with pytest.raises(UsageError, match="--sha 'xyz' is not a commit sha"):
        local(repo, sha="xyz")


def test_default_branch_from_remote_head(tmp_path: Path, repo: Path) -> None:
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", "-b", "develop", str(bare))
    run_git(repo, "push", "-q", str(bare), "main:develop", "main:main")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(bare), str(clone))
    run_git(clone, "checkout", "-q", "main")
    ctx = local(clone)
    assert ctx.ref == "refs/heads/main"
    assert ctx.repo_default_branch == "develop"
    assert compute_tags("type=edge\ntype=ref,event=branch", None, None, ctx).tags == ("main",)
    assert local(clone, default_branch="main").repo_default_branch == "main"
    edge = compute_tags("type=edge", None, None, local(clone, default_branch="main"))
    assert edge.tags == ("edge",)


def test_clock_and_source_date_epoch(repo: Path) -> None:
    epoch = resolve_context(env={"SOURCE_DATE_EPOCH": "1578616200"}, cwd=repo)
    assert epoch.now == NOW
    explicit = resolve_context(env={"SOURCE_DATE_EPOCH": "1"}, cwd=repo, now=NOW)
    assert explicit.now == NOW
    before = datetime.now(timezone.utc)
    clock = resolve_context(env={}, cwd=repo)
    assert clock.now >= before
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH must be whole seconds"):
        resolve_context(env={"SOURCE_DATE_EPOCH": "yesterday"}, cwd=repo)


def test_short_sha_length_env(repo: Path) -> None:
    ctx = resolve_context(env={"DOCKER_METADATA_SHORT_SHA_LENGTH": "12"}, cwd=repo, now=NOW)
    assert ctx.short_sha_length == 12
    assert compute_tags("type=sha", None, None, ctx).tags == (f"sha-{ctx.sha[:12]}",)
    assert local(repo, short_sha_length=9).short_sha_length == 9
    with pytest.raises(UsageError, match="DOCKER_METADATA_SHORT_SHA_LENGTH is not a valid number"):
        resolve_context(env={"DOCKER_METADATA_SHORT_SHA_LENGTH": "abc"}, cwd=repo)
    with pytest.raises(UsageError, match="not a valid number: ²"):
        resolve_context(env={"DOCKER_METADATA_SHORT_SHA_LENGTH": "²"}, cwd=repo)
    with pytest.raises(UsageError, match="at least 1"):
        local(repo, short_sha_length=0)


# -- GitHub Actions --------------------------------------------------------------------------------

SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"
MERGE_SHA = "266574110acf203503badf966df2ea24b5d732d7"
HEAD_SHA = "a9c8c5828b91be19d9728548b24759e352367ef1"


def actions_env(
    tmp_path: Path, event: str, ref: str, payload: object, **extra: str
) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_REF": ref,
        "GITHUB_SHA": extra.pop("sha", SHA),
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "octo/hello",
        **extra,
    }


def from_actions(tmp_path: Path, env: dict[str, str], **kwargs: Any) -> Any:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    kwargs.setdefault("now", NOW)
    return resolve_context(env=env, cwd=workspace, **kwargs)


PR_PAYLOAD = {
    "number": 15,
    "pull_request": {"head": {"sha": HEAD_SHA, "ref": "test-pr"}, "base": {"ref": "master"}},
    "repository": {"default_branch": "master", "full_name": "octo/hello"},
}


def test_actions_push_branch(tmp_path: Path) -> None:
    payload = {
        "commits": [
            {"id": "other", "timestamp": "2000-01-01T00:00:00Z"},
            {"id": SHA, "timestamp": "2020-01-10T01:30:00+01:00"},
        ],
        "repository": {"default_branch": "master"},
    }
    ctx = from_actions(tmp_path, actions_env(tmp_path, "push", "refs/heads/dev", payload))
    assert ctx.source == "github"
    assert (ctx.event_name, ctx.ref, ctx.sha) == ("push", "refs/heads/dev", SHA)
    assert ctx.commit_date == NOW
    assert ctx.default_branch == "master"
    assert ctx.repository == "octo/hello"
    assert compute_tags(None, None, None, ctx).tags == ("dev",)
    assert compute_tags("type=edge", None, None, ctx).tags == ()


def test_actions_push_default_branch(tmp_path: Path) -> None:
    payload = {
        "head_commit": {"id": SHA, "timestamp": "2020-01-10T00:30:00Z"},
        "repository": {"default_branch": "master"},
    }
    ctx = from_actions(
        tmp_path,
        actions_env(tmp_path, "push", "refs/heads/master", payload),
        now=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    assert ctx.commit_date == NOW
    plan = compute_tags("type=edge\ntype=raw,value=d,enable={{is_default_branch}}", None, None, ctx)
    assert plan.tags == ("edge", "d")


def test_actions_tag_push_base_ref(tmp_path: Path) -> None:
    payload = {"base_ref": "refs/heads/master", "repository": {"default_branch": "master"}}
    ctx = from_actions(tmp_path, actions_env(tmp_path, "push", "refs/tags/v1.1.1", payload))
    assert ctx.base_ref == "refs/heads/master"
    assert ctx.commit_date == NOW  # no commits in the payload, no repository: the clock
    plan = compute_tags(
        "type=semver,pattern={{version}}\ntype=raw,value=from-{{base_ref}}", None, None, ctx
    )
    assert plan.tags == ("1.1.1", "from-master", "latest")


def test_actions_pull_request(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "pull_request", "refs/pull/15/merge", PR_PAYLOAD, sha=MERGE_SHA)
    ctx = from_actions(tmp_path, env)
    assert (ctx.ref, ctx.sha, ctx.pr_base_ref) == ("refs/pull/15/merge", MERGE_SHA, "master")
    assert ctx.head_ref == "test-pr"
    bare_env = {**env, "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature"}
    bare_env.pop("GITHUB_EVENT_PATH")
    from_env = from_actions(tmp_path, bare_env)
    assert (from_env.pr_base_ref, from_env.head_ref) == ("main", "feature")
    assert compute_tags("type=ref,event=pr\ntype=sha", None, None, ctx).tags == (
        "pr-15",
        "sha-2665741",
    )
    head = from_actions(tmp_path, {**env, "DOCKER_METADATA_PR_HEAD_SHA": "true"})
    assert head.sha == HEAD_SHA
    assert from_actions(tmp_path, env, pr_head_sha=True).sha == HEAD_SHA
    assert from_actions(tmp_path, {**env, "DOCKER_METADATA_PR_HEAD_SHA": "false"}).sha == MERGE_SHA


def test_actions_pull_request_target(tmp_path: Path) -> None:
    env = actions_env(
        tmp_path, "pull_request_target", "refs/heads/master", PR_PAYLOAD, sha=MERGE_SHA
    )
    ctx = from_actions(tmp_path, env)
    assert ctx.ref == "refs/pull/15/merge"
    assert compute_tags(None, None, None, ctx).tags == ("pr-15",)
    assert compute_tags("type=sha,priority=2000\ntype=ref,event=pr", None, None, ctx).tags == (
        "sha-2665741",
        "pr-15",
    )
    no_number = {k: v for k, v in PR_PAYLOAD.items() if k != "number"}
    env2 = actions_env(tmp_path, "pull_request_target", "refs/heads/master", no_number)
    kept = from_actions(tmp_path, env2)
    assert kept.ref == "refs/heads/master"
    assert any("without a PR number" in w for w in kept.warnings)


def test_actions_schedule_without_repository(tmp_path: Path) -> None:
    ctx = from_actions(tmp_path, actions_env(tmp_path, "schedule", "refs/heads/master", {}))
    assert ctx.default_branch is None
    plan = compute_tags(
        "type=schedule,pattern=nightly-{{date 'YYYYMMDD'}}\n"
        "type=raw,value=defbranch,enable={{is_default_branch}}",
        None,
        None,
        ctx,
    )
    assert plan.tags == ("nightly-20200110", "defbranch")


@pytest.mark.parametrize(
    ("event", "ref", "expected"),
    [
        ("release", "refs/tags/v1.1.1", ("1.1.1", "1.1", "latest")),
        ("workflow_dispatch", "refs/heads/master", ("master",)),
        ("create", "refs/tags/v1.1.1", ("1.1.1", "1.1", "latest")),
    ],
)
def test_actions_other_events(
    tmp_path: Path, event: str, ref: str, expected: tuple[str, ...]
) -> None:
    payload = {"repository": {"default_branch": "master"}}
    ctx = from_actions(tmp_path, actions_env(tmp_path, event, ref, payload))
    rules = (
        "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\n"
        "type=ref,event=branch"
    )
    assert compute_tags(rules, None, None, ctx).tags == expected


def test_actions_overrides(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "push", "refs/heads/dev", {})
    ctx = from_actions(tmp_path, env, ref="refs/tags/v2.0.0", sha="abcdef0", default_branch="dev")
    assert (ctx.ref, ctx.sha, ctx.repo_default_branch) == ("refs/tags/v2.0.0", "abcdef0", "dev")
    assert ctx.source == "github"


def test_actions_commit_date_from_checkout(tmp_path: Path, repo: Path) -> None:
    sha = run_git(repo, "rev-parse", "HEAD")
    env = actions_env(tmp_path, "push", "refs/heads/main", {}, sha=sha)
    ctx = resolve_context(env=env, cwd=repo, now=NOW)
    assert ctx.commit_date == datetime.fromisoformat(COMMIT_DATE)


def test_actions_empty_ref(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "", "GITHUB_REF": ""}
    ctx = from_actions(tmp_path, env)
    assert (ctx.ref, ctx.sha) == ("", "")
    assert compute_tags(None, None, None, ctx).tags == ()


def test_payload_problems(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "push", "refs/heads/dev", {})
    missing = from_actions(tmp_path, {**env, "GITHUB_EVENT_PATH": str(tmp_path / "nope.json")})
    assert any("does not exist" in w for w in missing.warnings)
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        from_actions(tmp_path, {**env, "GITHUB_EVENT_PATH": str(bad)})
    array = tmp_path / "array.json"
    array.write_text("[]", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a JSON object"):
        from_actions(tmp_path, {**env, "GITHUB_EVENT_PATH": str(array)})
