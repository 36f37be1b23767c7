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
from typing import Any

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
