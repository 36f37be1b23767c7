"""Following a build to its end: the push stream first, then the task's own progress stream.

The push stream (docs/protocol.md#the-push-stream) carries stage lines and ends with
``complete`` or ``error``. If it breaks or stalls first, the build goes on at the Hub: we find
*this* push's task (its ``traceId`` is our session id, never just the newest task of that name)
and follow it with ``executor.queryProgress`` (docs/protocol.md#the-progress-stream),
reconnecting with backoff until a terminal report or the deadline. Every line is shown once:
replayed progress is matched against what the push stream already showed and then de-duplicated
by its sequence number ``sn``.

The deadline holds whatever the Hub does: the streams check it after every read (and their
watchdog ends reads that never return), so garbage, drips or huge lines cannot keep a follow
running past it; it surfaces as :class:`FollowTimeout` or
:class:`~hubci.hub.errors.DeadlineReached` (its base class).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from hubci.errors import AuthError, HubError
from hubci.hub.client import HubClient
from hubci.hub.errors import DeadlineReached, HubRejected, StreamBroken
from hubci.hub.stream import StreamResponse

EventKind = Literal["stage", "console", "warning", "status"]


@dataclass(frozen=True)
class BuildEvent:
    kind: EventKind
    subject: str
    text: str


@dataclass(frozen=True)
class Terminal:
    """How a build ended."""

    status: Literal["succeeded", "failed"]
    executor: dict[str, Any] | None = None
    error: str | None = None
    #: "build", "normalizer" or None
    stage: str | None = None


@dataclass
class FollowState:
    """What was already shown, so that a reconnect never prints a line twice."""

    shown_keys: list[tuple[str, str, str]] = field(default_factory=list)
    replay_pointer: int = 0
    max_sn: int = -1
    last_status: str | None = None
    warnings: list[str] = field(default_factory=list)
    reconnects: int = 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


def error_text(line: dict[str, Any]) -> tuple[str, str]:
    """(message, stage) for a stream ``error`` line, preferring the structured payload."""
    payload = line.get("payload")
    stage = "build"
    if isinstance(payload, dict):
        err = payload.get("err")
        if payload.get("service") == "normalizer" or line.get("subject") == "normalize":
            stage = "normalizer"
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            code = err.get("code")
            prefix = f"normalizer code {code}: " if code is not None else ""
            return prefix + err["message"], "normalizer"
        for key in ("readableMessage", "message"):
            if isinstance(payload.get(key), str) and payload[key]:
                return payload[key], stage
    message = line.get("message")
    return (message if isinstance(message, str) and message else "unknown error"), stage


def _event_for(line: dict[str, Any]) -> BuildEvent | None:
    kind = _text(line.get("type"))
    subject = _text(line.get("subject"))
    if kind == "console":
        return BuildEvent("console", subject, _text(line.get("payload")))
    if kind == "warning":
        return BuildEvent("warning", subject, _text(line.get("message") or line.get("payload")))
    if kind in ("complete", "error", ""):
        return None
    detail = ""
    legacy = line.get("legacyMessage")
    if isinstance(legacy, dict) and legacy.get("status"):
        detail = f" ({_text(legacy['status'])})"
    elif isinstance(line.get("message"), str) and line["message"]:
        detail = f": {line['message']}"
    return BuildEvent("stage", subject, f"{kind}{detail}")


def _key(line: dict[str, Any]) -> tuple[str, str, str]:
    return (_text(line.get("type")), _text(line.get("subject")), _text(line.get("payload")))


def read_push_stream(
    lines: Iterable[dict[str, Any]], state: FollowState, emit: Callable[[BuildEvent], None]
) -> Terminal | None:
    """Show a push stream's lines; the Terminal it ended with, or None if it ended early."""
    for line in lines:
        kind = line.get("type")
        if kind == "complete":
            payload = line.get("payload")
            if isinstance(line.get("warning"), str):
                state.warnings.append(line["warning"])
            return Terminal("succeeded", payload if isinstance(payload, dict) else None)
        if kind == "error":
            message, stage = error_text(line)
            return Terminal("failed", None, message, stage)
        state.shown_keys.append(_key(line))
        event = _event_for(line)
        if event is not None:
            if event.kind == "warning":
                state.warnings.append(event.text)
            emit(event)
    return None


def read_progress_stream(
    lines: Iterable[dict[str, Any]], state: FollowState, emit: Callable[[BuildEvent], None]
) -> Terminal | None:
    """Show a queryProgress stream's new lines; the terminal report, or None if it ended early."""
    for line in lines:
        code = line.get("code")
        if isinstance(code, int) and code >= 400:
            message = _text(line.get("message")) or f"code {code}"
            if code == 401:
                raise AuthError(f"the Hub refused the token on executor.queryProgress: {message}")
            raise HubError(f"executor.queryProgress failed: {message}")
        kind = line.get("type")
        if kind == "error":
            raise HubError(f"executor.queryProgress failed: {_text(line.get('message'))}")
        if kind == "report":
            terminal = _report(line, state, emit)
            if terminal is not None:
                return terminal
        elif kind == "progress":
            _progress(line, state, emit)
    return None


def _report(
    line: dict[str, Any], state: FollowState, emit: Callable[[BuildEvent], None]
) -> Terminal | None:
    status = _text(line.get("status"))
    if status == "succeeded":
        result = line.get("result")
        return Terminal("succeeded", result if isinstance(result, dict) else None)
    if status == "failed":
        err = line.get("error")
        if isinstance(err, dict):
            message = _text(err.get("readableMessage") or err.get("message"))
        else:
            message = _text(err or line.get("message"))
        stage = "normalizer" if "normaliz" in message.lower() else "build"
        return Terminal("failed", None, message or "the build failed", stage)
    reason = line.get("error")
    text = status + (f": {reason}" if isinstance(reason, str) and reason else "")
    if text != state.last_status:
        state.last_status = text
        emit(BuildEvent("status", "task", text))
    return None


def _progress(line: dict[str, Any], state: FollowState, emit: Callable[[BuildEvent], None]) -> None:
    data = line.get("data")
    if not isinstance(data, dict):
        return
    sn = data.get("sn")
    inner = data.get("data")
    if not isinstance(inner, dict):
        return
    if isinstance(sn, int):
        if sn <= state.max_sn:
            return
        state.max_sn = sn
    key = _key(inner)
    # Lines the push stream already showed come back first in a replay: skip them once each.
    try:
        found = state.shown_keys.index(key, state.replay_pointer)
    except ValueError:
        found = -1
    if found >= 0:
        state.replay_pointer = found + 1
        return
    event = _event_for(inner)
    if event is not None:
        if event.kind == "warning":
            state.warnings.append(event.text)
        emit(event)


class FollowTimeout(DeadlineReached):
    """The deadline passed before the build ended."""


@dataclass
class Follower:
    """Reconnects to a task's progress until it ends or ``deadline`` (time.monotonic) passes."""

    client: HubClient
    verbose: bool
    emit: Callable[[BuildEvent], None]
    deadline: float | None
    log: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    max_backoff: float = 30.0
    state: FollowState = field(default_factory=FollowState)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _check_deadline(self) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise FollowTimeout

    def stream_events(self, stream: StreamResponse) -> Iterator[dict[str, Any]]:
        """Stream events; no read waits past the deadline or longer than the stall timeout
        (the stream bounds each read and checks both after every chunk)."""
        stream.tighten(self.deadline)
        for event in stream.events():
            yield event
            self._check_deadline()

    def push_stream(self, stream: StreamResponse) -> tuple[Terminal | None, str | None]:
        """Read the push stream: (terminal, None) or (None, why it ended early)."""
        try:
            with stream:
                terminal = read_push_stream(self.stream_events(stream), self.state, self.emit)
        except StreamBroken as exc:
            if exc.stalled:
                self._check_deadline()
            return None, ("stalled" if exc.stalled else exc.reason)
        return terminal, (None if terminal else "ended before the build did")

    def task(self, task_id: str, *, replay: bool = True) -> Terminal:
        """Follow ``task_id`` with queryProgress until a terminal report (FollowTimeout past the
        deadline). ``replay=False`` starts from now; reconnects always replay (de-duplicated)."""
        attempt = 0
        while True:
            self._check_deadline()
            left = self.remaining()
            read = (
                self.client.timeouts.stall
                if left is None
                else min(self.client.timeouts.stall, left)
            )
            why: str
            try:
                with self.client.query_progress(
                    task_id,
                    replay=replay or attempt > 0,
                    verbose=self.verbose,
                    read_timeout=read,
                    within=left,
                ) as stream:
                    terminal = read_progress_stream(
                        self.stream_events(stream), self.state, self.emit
                    )
                if terminal is not None:
                    return terminal
                why = "the progress stream ended before the build did"
            except StreamBroken as exc:
                why = "the progress stream stalled" if exc.stalled else f"progress: {exc.reason}"
            except HubError as exc:
                if isinstance(exc, AuthError) or (
                    isinstance(exc, HubRejected) and exc.status < 500
                ):
                    raise
                why = exc.message
            self._check_deadline()
            attempt += 1
            self.state.reconnects += 1
            delay = min(self.max_backoff, 0.5 * 2 ** min(attempt - 1, 6)) + random.uniform(0, 0.5)
            left = self.remaining()
            if left is not None:
                delay = max(0.0, min(delay, left))
            self.log(f"reconnecting to task {task_id} in {delay:.1f}s: {why}")
            self.sleep(delay)
