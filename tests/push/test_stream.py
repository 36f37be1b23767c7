"""NDJSON reading: lines split anywhere, blank lines, garbage and cut tails."""

from __future__ import annotations

import json
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from hubci.hub.stream import MAX_LINE_BYTES, iter_ndjson

LINES: list[dict[str, object]] = [
    {"type": "init", "subject": "createExecutor"},
    {"type": "console", "payload": "a\u00e9b"},
]


def _body(objs: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def _split(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    last = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        yield data[last:cut]
        last = cut
    yield data[last:]


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_any_split_yields_the_same_objects(cuts: list[int]) -> None:
    data = _body(LINES)
    assert list(iter_ndjson(_split(data, cuts))) == LINES


def test_blank_lines_and_crlf_are_tolerated() -> None:
    data = b"\n\r\n" + json.dumps(LINES[0]).encode() + b"\r\n\n" + json.dumps(LINES[1]).encode()
    assert list(iter_ndjson([data])) == LINES


def test_a_cut_tail_is_dropped_and_garbage_is_counted_not_echoed() -> None:
    seen: list[int] = []
    data = b'{"type":"init"}\nnot json\n[1,2]\n{"type":"start","subj'
    assert list(iter_ndjson([data], on_garbage=seen.append)) == [{"type": "init"}]
    assert seen == [len(b"not json"), len(b"[1,2]")]


def test_a_final_line_without_newline_counts_when_complete() -> None:
    assert list(iter_ndjson([b'{"a":1}\n{"b":2}'])) == [{"a": 1}, {"b": 2}]


def test_transport_errors_propagate_after_the_complete_lines() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a":1}\n{"b"'
        raise ConnectionResetError

    got: list[dict[str, object]] = []
    try:
        for obj in iter_ndjson(chunks()):
            got.append(obj)
    except ConnectionResetError:
        pass
    else:  # pragma: no cover - the error must surface
        raise AssertionError("the transport error was swallowed")
    assert got == [{"a": 1}]


def test_an_overlong_line_is_skipped_without_holding_it() -> None:
    seen: list[int] = []
    big = b"x" * (MAX_LINE_BYTES + 10)
    chunks = [big[: MAX_LINE_BYTES // 2], big[MAX_LINE_BYTES // 2 :], b'\n{"ok":true}\n']
    assert list(iter_ndjson(chunks, on_garbage=seen.append)) == [{"ok": True}]
    assert seen == [MAX_LINE_BYTES]
