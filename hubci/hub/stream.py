"""NDJSON stream reading that survives cuts.

The Hub answers ``executor.push``/``executor.update``/``executor.queryProgress`` with
newline-delimited JSON (docs/protocol.md#the-push-stream, docs/protocol.md#the-progress-stream).
A connection can break at any byte, so the reader never trusts the transport: a trailing fragment
without its newline is only used when it parses as a whole object, blank lines are skipped, and
a line that is not a JSON object is reported through ``on_garbage`` (counted, never echoed: it
could hold anything) and skipped.

A :class:`StreamResponse` holds against a misbehaving server: it reads at most
:data:`hubci.netguard.READ_PIECE` bytes at a time (whatever the chunk sizes), decodes
gzip/deflate piece by piece, keeps at most :data:`MAX_LINE_BYTES` of a line, and after every
read checks the deadline and the stall timer (time since the last *parsed* event: garbage is no
progress). A :class:`~hubci.netguard.Watchdog` set to the nearer of the two ends reads that
never return.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hubci.hub.errors import (
    TRANSPORT_ERRORS,
    DeadlineReached,
    StreamBroken,
    describe,
    is_timeout,
)
from hubci.netguard import BodyRefused, Watchdog, iter_body, response_socket

if TYPE_CHECKING:
    import requests

#: Longest line kept in memory; a longer one is dropped (a broken or hostile server).
MAX_LINE_BYTES = 4 * 1024 * 1024
#: Shortest socket timeout set before a read.
MIN_READ_TIMEOUT = 0.05


def _decode(raw: bytes) -> dict[str, Any] | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…"
        return None
    return value if isinstance(value, dict) else None


def iter_ndjson(
    chunks: Iterable[bytes],
    *,
    on_garbage: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each JSON object of an NDJSON byte stream, as soon as its line is complete.

    ``chunks`` may split lines anywhere. Errors raised by ``chunks`` itself (a reset connection,
    a read timeout) propagate to the caller after every complete line before them was yielded.
    ``on_garbage`` receives the byte length of each line that is not a JSON object.
    """
    buffer = bytearray()
    overlong = False
    for chunk in chunks:
        if not chunk:
            continue
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                if not overlong:
                    buffer += chunk[start:]
                    if len(buffer) > MAX_LINE_BYTES:
                        overlong = True
                        buffer.clear()
                break
            piece = chunk[start:newline]
            start = newline + 1
            if overlong:
                overlong = False
                if on_garbage is not None:
                    on_garbage(MAX_LINE_BYTES)
                continue
            line = bytes(buffer + piece) if buffer else bytes(piece)
            buffer.clear()
            if not line.strip():
                continue
            obj = _decode(line)
            if obj is None:
                if on_garbage is not None:
                    on_garbage(len(line))
                continue
            yield obj
    if buffer and not overlong:
        # A final line without "\n": complete only if it parses (servers may omit the last
        # newline); otherwise it is the remains of a cut and silently dropped.
        obj = _decode(bytes(buffer))
        if obj is not None:
            yield obj


class StreamResponse:
    """An open NDJSON answer; iterate :meth:`events`, then :meth:`close`.

    ``deadline`` (time.monotonic) ends the stream with :class:`DeadlineReached`; ``stall``
    seconds without a parsed event end it with ``StreamBroken(stalled=True)``. ``watchdog``
    (the one that guarded the request, if any) is taken over and closed with the stream.
    """

    def __init__(
        self,
        resp: requests.Response,
        endpoint: str,
        *,
        deadline: float | None = None,
        stall: float | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self._resp = resp
        self.endpoint = endpoint
        self.status_code = resp.status_code
        self.garbage_lines = 0
        self.deadline = deadline
        self.stall = stall
        self._last_event = time.monotonic()
        self._sock = response_socket(resp)
        self._dog = watchdog if watchdog is not None else Watchdog()
        if self._sock is not None:
            self._dog.register(self._sock)
        self._arm()

    def tighten(self, deadline: float | None) -> None:
        """End the stream at ``deadline`` too, if that comes first."""
        if deadline is not None and (self.deadline is None or deadline < self.deadline):
            self.deadline = deadline
            self._arm()

    def _stall_limit(self) -> float | None:
        return None if self.stall is None else self._last_event + self.stall

    def _arm(self) -> None:
        limits = [t for t in (self.deadline, self._stall_limit()) if t is not None]
        self._dog.arm(min(limits) if limits else None)

    def _expired(self) -> Exception | None:
        """The deadline or stall that has passed, as the error to raise; None if neither."""
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            return DeadlineReached(f"no result from {self.endpoint} before --timeout ran out")
        limit = self._stall_limit()
        if limit is not None and now >= limit:
            return StreamBroken("stalled", stalled=True)
        return None

    def _before_read(self) -> None:
        """Raise past the deadline or stall; else bound the next read by what is left."""
        expired = self._expired()
        if expired is not None:
            raise expired
        now = time.monotonic()
        lefts = [t - now for t in (self.deadline, self._stall_limit()) if t is not None]
        if lefts and self._sock is not None:
            try:
                self._sock.settimeout(max(min(lefts), MIN_READ_TIMEOUT))
            except OSError:
                pass  # already closed: the next read reports it

    def _chunks(self) -> Iterator[bytes]:
        what = f"the {self.endpoint} stream"
        for chunk in iter_body(self._resp, what=what):  # netguard.READ_PIECE at a time
            yield chunk
            self._before_read()  # after every chunk, parsed or not

    def _garbage(self, _size: int) -> None:
        self.garbage_lines += 1

    def events(self) -> Iterator[dict[str, Any]]:
        """Each JSON object of the stream; raises StreamBroken when the transport fails or the
        stream stalls, DeadlineReached past the deadline."""
        try:
            self._before_read()
            for obj in iter_ndjson(self._chunks(), on_garbage=self._garbage):
                self._last_event = time.monotonic()
                self._arm()
                yield obj
        except TRANSPORT_ERRORS as exc:
            raise self._broken(describe(exc), stalled=is_timeout(exc)) from exc
        except BodyRefused as exc:
            raise self._broken(exc.message, stalled=False) from None
        if self._dog.fired:  # the watchdog's shutdown looks like an orderly end
            raise self._broken("stalled", stalled=True)

    def _broken(self, reason: str, *, stalled: bool) -> Exception:
        if self._dog.fired or stalled:
            expired = self._expired()
            if expired is not None:
                return expired
        return StreamBroken(reason, stalled=stalled)

    def close(self) -> None:
        self._dog.close()
        self._resp.close()

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
