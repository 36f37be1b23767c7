"""GitHubContext.from_env on the payloads and variables a runner provides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hubci.github import GitHubContext

MERGE_SHA = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
HEAD_SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
PUSH_SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "ghs_contextSentinel0123456789"


def _env(tmp_path: Path, event: str, payload: dict[str, Any], **extra: str) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    env = {
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": "octo-org/executors",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "9001",
        "GITHUB_SHA": PUSH_SHA,
    }
    env.update(extra)
    return env


def _pull_request_payload(number: int = 15) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": HEAD_SHA, "ref": "test-pr"},
            "base": {"sha": PUSH_SHA, "ref": "master"},
            "merge_commit_sha": MERGE_SHA,
        },
    }


def test_pull_request_reports_on_the_head_sha_not_the_merge_sha(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        "pull_request",
        _pull_request_payload(),
        GITHUB_SHA=MERGE_SHA,
        GITHUB_REF="refs/pull/15/merge",
    )
    ctx = GitHubContext.from_env(env, TOKEN)
    assert ctx is not None
    assert ctx.sha == HEAD_SHA
    assert ctx.pr_number == 15
    assert ctx.repository == "octo-org/executors"
    assert (ctx.owner, ctx.repo) == ("octo-org", "executors")
    assert ctx.api_url == "https://api.github.com"
    assert ctx.run_url == "https://github.com/octo-org/executors/actions/runs/9001"
    assert ctx.token.reveal() == TOKEN
    assert TOKEN not in repr(ctx)


def test_pull_request_target_uses_the_payload_not_the_base_branch(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        "pull_request_target",
        _pull_request_payload(7),
        GITHUB_REF="refs/heads/master",
    )
    ctx = GitHubContext.from_env(env, TOKEN)
    assert ctx is not None
    assert (ctx.sha, ctx.pr_number) == (HEAD_SHA, 7)


def test_branch_push(tmp_path: Path) -> None:
    payload = {"ref": "refs/heads/dev", "before": "0" * 40, "after": PUSH_SHA}
    env = _env(tmp_path, "push", payload, GITHUB_REF="refs/heads/dev")
    ctx = GitHubContext.from_env(env, f" {TOKEN}\n")  # as pasted into a secret
    assert ctx is not None
    assert (ctx.sha, ctx.pr_number) == (PUSH_SHA, None)
    assert ctx.token.reveal() == TOKEN


def test_tag_push_on_enterprise_server(tmp_path: Path) -> None:
    payload = {"ref": "refs/tags/v1.1.1", "base_ref": "refs/heads/main", "after": PUSH_SHA}
    env = _env(
        tmp_path,
        "push",
        payload,
        GITHUB_REF="refs/tags/v1.1.1",
        GITHUB_API_URL="https://ghe.example.com/api/v3/",
        GITHUB_SERVER_URL="https://ghe.example.com/",
    )
    ctx = GitHubContext.from_env(env, TOKEN)
    assert ctx is not None
    assert (ctx.sha, ctx.pr_number) == (PUSH_SHA, None)
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert ctx.run_url == "https://ghe.example.com/octo-org/executors/actions/runs/9001"


def test_unreadable_payload_falls_back_to_the_pull_ref(tmp_path: Path) -> None:
    env = _env(tmp_path, "pull_request", {}, GITHUB_REF="refs/pull/15/merge")
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json", encoding="utf-8")
    ctx = GitHubContext.from_env(env, TOKEN)
    assert ctx is not None
    assert (ctx.sha, ctx.pr_number) == (PUSH_SHA, 15)


def test_defaults_without_api_server_or_run_id(tmp_path: Path) -> None:
    env = _env(tmp_path, "push", {})
    for name in ("GITHUB_API_URL", "GITHUB_SERVER_URL", "GITHUB_RUN_ID", "GITHUB_EVENT_PATH"):
        del env[name]
    ctx = GitHubContext.from_env(env, TOKEN)
    assert ctx is not None
    assert ctx.api_url == "https://api.github.com"
    assert ctx.run_url is None


@pytest.mark.parametrize(
    ("change", "token"),
    [
        ({}, ""),
        ({}, "  \n"),
        ({"GITHUB_REPOSITORY": ""}, TOKEN),
        ({"GITHUB_REPOSITORY": "no-slash"}, TOKEN),
        ({"GITHUB_REPOSITORY": "a/b/c"}, TOKEN),
        ({"GITHUB_SHA": ""}, TOKEN),
        ({"GITHUB_SHA": "not-a-sha"}, TOKEN),
    ],
)
def test_not_enough_context_gives_none(tmp_path: Path, change: dict[str, str], token: str) -> None:
    env = _env(tmp_path, "push", {})
    env.update(change)
    assert GitHubContext.from_env(env, token) is None
