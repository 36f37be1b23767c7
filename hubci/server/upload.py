"""Streaming request-body readers: multipart uploads go to disk with their MD5, never into memory.

``read_form`` feeds the body, chunk by chunk as it arrives, to python-multipart's streaming
parser. The ``file`` part is written to a file in ``spool_dir`` while its MD5 is computed;
other parts are kept as fields (each at most ``MAX_FIELD_BYTES``). The whole body is limited
to ``max_bytes``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

#: The multipart part that carries the bundle (docs/protocol.md#the-upload-form); other parts
#: are fields.
FILE_FIELD = "file"
MAX_FIELD_BYTES = 1024 * 1024
MAX_SMALL_BODY = 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    """The body does not parse; the message says why (never echoes its content)."""


class ResetNow(Exception):
    """Raised by ``read_form`` when the caller asked to drop the connection mid-body."""


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # the (first) file part, on disk
    file_size: int = 0
    file_md5: str | None = None

    def discard(self) -> None:
        if self.file is not None:
            self.file.unlink(missing_ok=True)
            self.file = None


def content_type(header: str | None) -> tuple[str, dict[bytes, bytes]]:
    kind, params = parse_options_header(header or "")
    return kind.decode("latin-1").lower(), params


async def read_form(
    chunks: AsyncIterator[bytes],
    boundary: bytes,
    spool_dir: Path,
    *,
    max_bytes: int,
    reset_after: int | None = None,
    on_reset: Callable[[], None] | None = None,
) -> Form:
    """Parse a ``multipart/form-data`` body; raise BodyTooLarge, BadBody or ResetNow."""
    form = Form()
    state: dict[str, Any] = {"header_field": b"", "header_value": b"", "headers": {}}
    sink: dict[str, Any] = {"kind": None}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header_field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["header_value"] += data[start:end]

    def on_header_end() -> None:
        name = state["header_field"].decode("latin-1").strip().lower()
        state["headers"][name] = state["header_value"]
        state["header_field"] = b""
        state["header_value"] = b""

    def on_headers_finished() -> None:
        disposition = state["headers"].get("content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        state["headers"] = {}
        if not name:
            msg = "a multipart part has no name"
            raise BadBody(msg)
        if name == FILE_FIELD and form.file is None:
            path = spool_dir / f"upload-{secrets.token_hex(8)}.part"
            handle: IO[bytes] = open(path, "xb")  # noqa: SIM115 - closed in on_part_end
            path.chmod(0o600)
            form.file = path
            sink.update(kind="file", name=name, handle=handle, md5=hashlib.md5(), size=0)
        else:
            sink.update(kind="field", name=name, buffer=bytearray())

    def on_part_data(data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if sink["kind"] == "file":
            sink["handle"].write(piece)
            sink["md5"].update(piece)
            sink["size"] += len(piece)
        elif sink["kind"] == "field":
            sink["buffer"] += piece
            if len(sink["buffer"]) > MAX_FIELD_BYTES:
                msg = f"the form field {sink['name']!r} is larger than {MAX_FIELD_BYTES} bytes"
                raise BadBody(msg)

    def on_part_end() -> None:
        if sink["kind"] == "file":
            sink["handle"].close()
            form.file_size = sink["size"]
            form.file_md5 = sink["md5"].hexdigest()
        elif sink["kind"] == "field":
            try:
                form.fields[sink["name"]] = sink["buffer"].decode("utf-8")
            except UnicodeDecodeError:
                msg = f"the form field {sink['name']!r} is not UTF-8"
                raise BadBody(msg) from None
        sink.clear()
        sink["kind"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    total = 0
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > max_bytes:
                raise BodyTooLarge
            if reset_after is not None and total >= reset_after:
                if on_reset is not None:
                    on_reset()
                raise ResetNow
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        form.discard()
        msg = "the multipart body does not parse"
        raise BadBody(msg) from exc
    except BaseException:
        if sink.get("kind") == "file":
            sink["handle"].close()
        form.discard()
        raise
    finally:
        if sink.get("kind") == "file" and not sink["handle"].closed:
            sink["handle"].close()
    if sink.get("kind") is not None:
        form.discard()
        msg = "the multipart body ended in the middle of a part"
        raise BadBody(msg)
    return form


async def read_small(chunks: AsyncIterator[bytes], limit: int = MAX_SMALL_BODY) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


async def read_fields(
    chunks: AsyncIterator[bytes], header: str | None, spool_dir: Path
) -> dict[str, Any]:
    """A small body as a dict: multipart, urlencoded or JSON (as the Hub's endpoints accept)."""
    kind, params = content_type(header)
    if kind == "multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            msg = "multipart/form-data without a boundary"
            raise BadBody(msg)
        form = await read_form(chunks, boundary, spool_dir, max_bytes=MAX_SMALL_BODY)
        form.discard()
        return dict(form.fields)
    body = await read_small(chunks)
    if kind == "application/json":
        try:
            value = json.loads(body or b"{}")
        except ValueError as exc:
            msg = "the JSON body does not parse"
            raise BadBody(msg) from exc
        if not isinstance(value, dict):
            msg = "the JSON body must be an object"
            raise BadBody(msg)
        return value
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = "the form body is not UTF-8"
        raise BadBody(msg) from exc
    return dict(parse_qsl(text, keep_blank_values=True))
