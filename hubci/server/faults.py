"""Fault injection for reliability tests of Hub clients (``--fault SPEC``).

Specs (docs/local-hub.md):

- ``upload-status:CODE:N``  answer the next N uploads (push/update) with HTTP CODE
  (``Retry-After: 1`` on 429 and 503);
- ``upload-reset:N``        drop the connection in the middle of the next N uploads;
- ``stream-cut:K``          close the next push stream and the next status stream after K lines
  (the build goes on; repeat the spec to cut more streams);
- ``whoami-status:CODE:N``  answer the next N ``user.identity.whoami`` calls with HTTP CODE;
- ``slow-build:SECONDS``    every platform build waits SECONDS more (until the Hub stops);
- ``fail-build:PLATFORM``   every build for PLATFORM fails with a docker-like error.

Every fault is logged (logger ``hubci.server``) each time it fires.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from hubci import rules
from hubci.errors import UsageError

log = logging.getLogger("hubci.server")

KINDS = (
    "upload-status",
    "upload-reset",
    "stream-cut",
    "whoami-status",
    "slow-build",
    "fail-build",
)


class FaultSpecError(UsageError):
    """A ``--fault`` spec that does not parse."""


@dataclass
class _Counted:
    code: int
    left: int


def _int(text: str, what: str, spec: str, *, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        msg = f"--fault {spec!r}: {what} must be a whole number from {low} to {high}"
        raise FaultSpecError(msg, hint="see `hubci hub serve --help` for the fault specs")
    return value


def parse_fault(spec: str) -> tuple[str, tuple[str, ...]]:
    """Split and check one spec; return (kind, args). Raises FaultSpecError."""
    kind, *args = spec.strip().split(":")
    shapes = {
        "upload-status": 2,
        "whoami-status": 2,
        "upload-reset": 1,
        "stream-cut": 1,
        "slow-build": 1,
        "fail-build": -1,
    }
    if kind not in shapes:
        msg = f"--fault {spec!r}: unknown fault {kind!r}; use one of {', '.join(KINDS)}"
        raise FaultSpecError(msg)
    want = shapes[kind]
    if kind == "fail-build":
        platform = ":".join(args)
        if platform not in rules.PLATFORMS:
            known = ", ".join(sorted(rules.PLATFORMS))
            msg = f"--fault {spec!r}: unknown platform {platform!r}; use one of: {known}"
            raise FaultSpecError(msg)
        return kind, (platform,)
    if len(args) != want:
        shape = {2: f"{kind}:CODE:N", 1: f"{kind}:N"}[want]
        if kind == "slow-build":
            shape = "slow-build:SECONDS"
        if kind == "stream-cut":
            shape = "stream-cut:K"
        msg = f"--fault {spec!r}: expected {shape}"
        raise FaultSpecError(msg)
    if want == 2:
        _int(args[0], "CODE", spec, low=400, high=599)
        _int(args[1], "N", spec, low=1, high=1_000_000)
    elif kind == "slow-build":
        try:
            seconds = float(args[0])
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= 3600:
            msg = f"--fault {spec!r}: SECONDS must be a number from 0 to 3600"
            raise FaultSpecError(msg)
    else:
        _int(args[0], "K" if kind == "stream-cut" else "N", spec, low=0, high=1_000_000)
    return kind, tuple(args)


class Faults:
    """The active faults of one Hub; thread-safe (requests and build workers consult it)."""

    def __init__(self, specs: tuple[str, ...] | list[str] = ()) -> None:
        self._lock = threading.Lock()
        self._upload_status: list[_Counted] = []
        self._whoami_status: list[_Counted] = []
        self._upload_reset = 0
        self._cuts: dict[str, list[int]] = {"push": [], "status": []}
        self._slow = 0.0
        self._fail: set[str] = set()
        for spec in specs:
            self.add(spec)

    def add(self, spec: str) -> None:
        kind, args = parse_fault(spec)
        with self._lock:
            if kind == "upload-status":
                self._upload_status.append(_Counted(int(args[0]), int(args[1])))
            elif kind == "whoami-status":
                self._whoami_status.append(_Counted(int(args[0]), int(args[1])))
            elif kind == "upload-reset":
                self._upload_reset += int(args[0])
            elif kind == "stream-cut":
                for cuts in self._cuts.values():
                    cuts.append(int(args[0]))
            elif kind == "slow-build":
                self._slow += float(args[0])
            else:
                self._fail.add(args[0])
        log.info("fault armed: %s", spec.strip())

    def clear(self) -> None:
        with self._lock:
            self._upload_status.clear()
            self._whoami_status.clear()
            self._upload_reset = 0
            for cuts in self._cuts.values():
                cuts.clear()
            self._slow = 0.0
            self._fail.clear()

    @staticmethod
    def _take(queue: list[_Counted], name: str) -> int | None:
        if not queue:
            return None
        head = queue[0]
        head.left -= 1
        if head.left <= 0:
            queue.pop(0)
        log.warning("fault fired: %s:%d (%d more)", name, head.code, head.left)
        return head.code

    def upload_status(self) -> int | None:
        """The HTTP status to answer this upload with, or None."""
        with self._lock:
            return self._take(self._upload_status, "upload-status")

    def whoami_status(self) -> int | None:
        with self._lock:
            return self._take(self._whoami_status, "whoami-status")

    def upload_reset(self) -> bool:
        """True when this upload's connection must be dropped mid-body."""
        with self._lock:
            if self._upload_reset <= 0:
                return False
            self._upload_reset -= 1
            log.warning("fault fired: upload-reset (%d more)", self._upload_reset)
            return True

    def stream_cut(self, stream: str) -> int | None:
        """For a new ``push`` or ``status`` stream: close it after this many lines, or None."""
        with self._lock:
            cuts = self._cuts[stream]
            if not cuts:
                return None
            return cuts.pop(0)

    def slow_build(self) -> float:
        with self._lock:
            return self._slow

    def fail_build(self, platform: str) -> bool:
        with self._lock:
            return platform in self._fail
