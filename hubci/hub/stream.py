"""NDJSON stream reading that survives cuts.

The Hub answers ``executor.push``/``executor.update``/``executor.queryProgress`` with
newline-delimited JSON (hub-protocol.md §6-§7). A connection can break at any byte, so the
reader never trusts the transport: a trailing fragment without its newline is only used when it
parses as a whole object, blank lines are skipped, and a line that is not a JSON object is
reported through ``on_garbage`` (counted, never echoed: it could hold anything) and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hubci.hub.errors import TRANSPORT_ERRORS, StreamBroken, describe, is_timeout

if TYPE_CHECKING:
    import requests

#: Longest line kept in memory; a longer one is dropped (a broken or hostile server).
MAX_LINE_BYTES = 4 * 1024 * 1024


def _decode(raw: bytes) -> dict[str, Any] | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
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
    """An open NDJSON answer; iterate :meth:`events`, then :meth:`close`."""

    def __init__(self, resp: requests.Response, endpoint: str) -> None:
        self._resp = resp
        self.endpoint = endpoint
        self.status_code = resp.status_code
        self.garbage_lines = 0

    def _chunks(self) -> Iterator[bytes]:
        raw = self._resp.raw
        if raw.chunked and raw.supports_chunked_reads():
            yield from raw.read_chunked(decode_content=True)
            return
        while True:  # close-delimited or sized body: hand over whatever has arrived
            data = raw.read1(64 * 1024, decode_content=True)
            if not data:
                return
            yield data

    def set_read_timeout(self, seconds: float) -> None:
        """Change how long one read may wait from now on (the deadline shrinks as we go)."""
        connection = getattr(self._resp.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.settimeout(max(seconds, 0.05))
            except OSError:
                pass  # already closed: the next read reports it

    def _garbage(self, _size: int) -> None:
        self.garbage_lines += 1

    def events(self) -> Iterator[dict[str, Any]]:
        """Each JSON object of the stream; raises StreamBroken when the transport fails."""
        try:
            yield from iter_ndjson(self._chunks(), on_garbage=self._garbage)
        except TRANSPORT_ERRORS as exc:
            raise StreamBroken(describe(exc), stalled=is_timeout(exc)) from exc

    def close(self) -> None:
        self._resp.close()

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
