"""Reading push and progress streams: terminal states, no line shown twice."""

from __future__ import annotations

from typing import Any

import pytest

from hubci.errors import AuthError, HubError
from hubci.hub.follow import (
    BuildEvent,
    FollowState,
    Terminal,
    read_progress_stream,
    read_push_stream,
)

PUSH_LINES: list[dict[str, Any]] = [
    {"type": "init", "subject": "createExecutor"},
    {"type": "start", "subject": "buildWorkspace"},
    {"type": "console", "subject": "buildWorkspace", "payload": "Step 1/2"},
    {"type": "warning", "subject": "normalize", "message": "README.md not found"},
    {"type": "console", "subject": "buildWorkspace", "payload": "Step 2/2"},
]


def _ignore(_event: BuildEvent) -> None:
    pass


def _progress(sn: int, inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "progress", "data": {"sn": sn, "dt": 10 * sn, "data": inner}}


def test_push_stream_success() -> None:
    events: list[BuildEvent] = []
    state = FollowState()
    payload = {"id": "abcd1234", "visibility": "public", "name": "Hello"}
    lines = [*PUSH_LINES, {"type": "complete", "payload": payload}, {"type": "ignored"}]
    assert read_push_stream(lines, state, events.append) == Terminal("succeeded", payload)
    assert [e.kind for e in events] == ["stage", "stage", "console", "warning", "console"]
    assert state.warnings == ["README.md not found"]


def test_push_stream_normalizer_rejection() -> None:
    line = {
        "type": "error",
        "subject": "normalize",
        "payload": {
            "status": 42205,
            "service": "normalizer",
            "err": {"code": 4000, "message": "We can not discover any Executor"},
            "readableMessage": "We can not discover any Executor",
        },
    }
    got = read_push_stream([line], FollowState(), _ignore)
    assert got == Terminal(
        "failed", None, "normalizer code 4000: We can not discover any Executor", "normalizer"
    )


def test_push_stream_build_error_prefers_readable_message() -> None:
    line = {"type": "error", "message": "Failed", "payload": {"readableMessage": "exit 1"}}
    got = read_push_stream([line], FollowState(), _ignore)
    assert got == Terminal("failed", None, "exit 1", "build")


def test_push_stream_that_ends_early_returns_none() -> None:
    assert read_push_stream(PUSH_LINES[:2], FollowState(), _ignore) is None


def test_replay_after_a_cut_shows_each_line_once() -> None:
    state = FollowState()
    shown: list[BuildEvent] = []
    read_push_stream(PUSH_LINES[:3], state, shown.append)  # cut after 3 lines
    replay = [
        {"type": "report", "status": "pending", "task": {"_id": "t1"}},
        *[_progress(i + 1, line) for i, line in enumerate(PUSH_LINES)],
        {"type": "report", "status": "succeeded", "result": {"id": "abcd1234"}},
    ]
    terminal = read_progress_stream(replay, state, shown.append)
    assert terminal == Terminal("succeeded", {"id": "abcd1234"})
    texts = [e.text for e in shown if e.kind != "status"]
    assert texts == ["init", "start", "Step 1/2", "README.md not found", "Step 2/2"]
    # a second reconnect replays everything again: nothing new is shown
    before = len(shown)
    read_progress_stream(replay, state, shown.append)
    assert len(shown) == before


def test_identical_console_lines_are_not_swallowed() -> None:
    state = FollowState()
    shown: list[BuildEvent] = []
    same = {"type": "console", "subject": "b", "payload": "."}
    read_push_stream([same], state, shown.append)
    read_progress_stream([_progress(1, same), _progress(2, same)], state, shown.append)
    assert [e.text for e in shown] == [".", "."]


def test_failed_report_and_status_changes() -> None:
    shown: list[BuildEvent] = []
    lines: list[dict[str, Any]] = [
        {"type": "report", "status": "pending"},
        {"type": "report", "status": "pending"},
        {"type": "report", "status": "waiting", "error": "queued behind 2 builds"},
        {"type": "report", "status": "failed", "error": {"message": "docker build exited 1"}},
    ]
    got = read_progress_stream(lines, FollowState(), shown.append)
    assert got == Terminal("failed", None, "docker build exited 1", "build")
    assert [e.text for e in shown] == ["pending", "waiting: queued behind 2 builds"]


def test_error_lines_in_progress_raise() -> None:
    with pytest.raises(AuthError):
        read_progress_stream([{"code": 401, "message": "nope"}], FollowState(), _ignore)
    with pytest.raises(HubError, match="task not found"):
        read_progress_stream(
            [{"type": "error", "message": "task not found"}], FollowState(), _ignore
        )
