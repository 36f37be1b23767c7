"""NDJSON response streams read from a task's event log.

Their lines are described in docs/protocol.md#the-push-stream and
docs/protocol.md#the-progress-stream.

Both streams only read the log the build workers write, so a client that disconnects never
affects its build, and any number of followers see the same history. Lines are compact JSON,
``\\n``-terminated, never blank; each is yielded (and so flushed) on its own.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from hubci.server.records import Event, TaskRow
from hubci.server.store import Store

#: Longest a follower waits between two looks at the log when nobody rings the bell.
POLL_SECONDS = 0.5
#: When the Hub stops, how long a follower waits for the cancelled build's last line.
STOP_GRACE_SECONDS = 2.0


def ndjson(obj: Mapping[str, Any]) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


class Bell:
    """Wakes the stream followers (on the event loop) when a worker thread appends events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def version(self) -> int:
        return self._version

    def ring(self) -> None:
        with self._lock:
            self._version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed; its follower is gone
                pass

    async def wait(self, seen: int, timeout: float = POLL_SECONDS) -> None:
        """Return once the bell rang after ``seen`` (a ``version`` value), or after ``timeout``."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._version != seen:
                return
            self._waiters.add(key)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(key)


def _is_terminal_push(event: Event) -> bool:
    return event.kind == "push" and event.body.get("type") in ("complete", "error")


async def _follow(
    store: Store, bell: Bell, task_id: str, after: int, stopping: Callable[[], bool]
) -> AsyncIterator[Event]:
    """Yield the task's events after ``after`` until its terminal push event (or shutdown)."""
    give_up: float | None = None
    while True:
        seen = bell.version
        events = store.events(task_id, after)
        for event in events:
            after = event.sn
            yield event
            if _is_terminal_push(event):
                return
        if not events:
            task = store.task(task_id)
            if task is None or (task.terminal and not store.events(task_id, after)):
                return
            if stopping():
                now = asyncio.get_running_loop().time()
                give_up = give_up if give_up is not None else now + STOP_GRACE_SECONDS
                if now >= give_up:
                    return
            await bell.wait(seen, timeout=POLL_SECONDS if give_up is None else 0.05)


async def push_stream(
    store: Store,
    bell: Bell,
    task_id: str,
    *,
    verbose: bool,
    cut_after: int | None,
    stopping: Callable[[], bool],
    complete_extra: Mapping[str, Any] | None = None,
) -> AsyncIterator[bytes]:
    """The ``executor.push``/``executor.update`` body: the task's push lines from the start."""
    sent = 0
    async for event in _follow(store, bell, task_id, 0, stopping):
        if event.kind != "push":
            continue
        body = event.body
        if body.get("type") == "console" and not verbose:
            continue
        if cut_after is not None and sent >= cut_after:
            return
        if body.get("type") == "complete" and complete_extra:
            body = {**body, "payload": {**body.get("payload", {}), **complete_extra}}
        yield ndjson(body)
        sent += 1


def _report(task: TaskRow) -> dict[str, Any]:
    line: dict[str, Any] = {"type": "report", "status": task.status, "task": {"_id": task.id}}
    if task.status == "succeeded" and task.result is not None:
        line["result"] = task.result
    if task.status == "failed":
        line["error"] = {"message": (task.error or {}).get("message", "the build failed")}
    return line


async def status_stream(
    store: Store,
    bell: Bell,
    task: TaskRow,
    *,
    replay: bool,
    verbose: bool,
    cut_after: int | None,
    stopping: Callable[[], bool],
) -> AsyncIterator[bytes]:
    """The ``executor.queryProgress`` body: reports and progress lines, then a terminal report.

    ``replay`` sends the history from the start; otherwise the current state, then what follows.
    """
    sent = 0

    def room() -> bool:
        return cut_after is None or sent < cut_after

    after = 0
    if not replay:
        after = store.last_sn(task.id)
        if not task.terminal:
            yield ndjson(_report(task))
            sent += 1
    async for event in _follow(store, bell, task.id, after, stopping):
        if not room():
            return
        body = event.body
        if event.kind == "report":
            line: dict[str, Any] = {"type": "report", "task": {"_id": task.id}, **body}
        elif body.get("type") in ("complete", "error"):
            continue  # the terminal report below says it
        elif body.get("type") == "console" and not verbose:
            continue
        else:
            line = {"type": "progress", "data": {"sn": event.sn, "dt": event.dt, "data": body}}
        yield ndjson(line)
        sent += 1
    final = store.task(task.id)
    if final is not None and final.terminal and room():
        yield ndjson(_report(final))
