"""Streaming request-body readers: multipart uploads go to disk with their MD5, never into memory.

``read_form`` feeds the body, chunk by chunk as it arrives, to python-multipart's streaming
parser. The ``file`` part is written to a file in ``spool_dir`` while its MD5 is computed;
other parts are kept as fields (each at most ``MAX_FIELD_BYTES``). The whole body is limited
to ``max_bytes``.
"""

from __future__ import annotations

import asyncio
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
#: How much of the bundle part is hashed and written at a time, off the event loop.
BATCH_BYTES = 4 * 1024 * 1024


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


class _BodyLimit:
    """Counts the body as it arrives: BodyTooLarge past ``max_bytes``; ResetNow at
    ``reset_after`` (the ``upload-reset`` fault), after calling ``on_reset``."""

    def __init__(
        self, max_bytes: int, reset_after: int | None, on_reset: Callable[[], None] | None
    ) -> None:
        self.max_bytes = max_bytes
        self.reset_after = reset_after
        self.on_reset = on_reset
        self.total = 0

    def count(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.max_bytes:
            raise BodyTooLarge
        if self.reset_after is not None and self.total >= self.reset_after:
            if self.on_reset is not None:
                self.on_reset()
            raise ResetNow


class _FilePart:
    """The bundle part: streamed to a new file (mode 0600) while its size and MD5 are counted.

    The parser hands pieces over in the event loop; they are gathered into batches of
    :data:`BATCH_BYTES`, and each batch is hashed and written by a worker thread while the
    loop receives the next one (:meth:`settle`), so the upload's MD5 and disk write overlap the
    network instead of stalling it. At most two batches are held at any time.
    """

    def __init__(self, path: Path) -> None:
        self._handle: IO[bytes] = open(path, "xb")  # noqa: SIM115 - closed by end() or close()
        path.chmod(0o600)
        self._md5 = hashlib.md5()
        self._size = 0
        self._batch = bytearray()
        self._inflight: asyncio.Future[Any] | None = None

    def write(self, piece: bytes) -> None:
        self._batch += piece
        self._size += len(piece)

    def _hash(self, data: bytearray) -> None:
        self._md5.update(data)  # releases the GIL for large buffers

    def _write(self, data: bytearray) -> None:
        self._handle.write(data)

    async def settle(self, *, final: bool = False) -> None:
        """Start writing a full batch (waiting for the one in flight); ``final``: everything."""
        if len(self._batch) < BATCH_BYTES and not (final and self._batch):
            if final and self._inflight is not None:
                await self._inflight
                self._inflight = None
            return
        if self._inflight is not None:
            await self._inflight
        data, self._batch = self._batch, bytearray()  # handed over, not copied
        loop = asyncio.get_running_loop()
        # hashed and written at the same time, each by a worker thread, in batch order
        self._inflight = asyncio.gather(
            loop.run_in_executor(None, self._hash, data),
            loop.run_in_executor(None, self._write, data),
        )
        if final:
            await self._inflight
            self._inflight = None

    def end(self, form: Form) -> None:
        """The part is complete (its last batch is written by :meth:`finish`)."""
        form.file_size = self._size

    async def finish(self, form: Form) -> None:
        await self.settle(final=True)
        self._handle.close()
        form.file_md5 = self._md5.hexdigest()

    async def abandon(self) -> None:
        """Wait for the batch in flight (it writes to the handle), then close the file, also
        when the wait itself is cancelled or fails."""
        inflight, self._inflight = self._inflight, None
        try:
            if inflight is not None:
                await asyncio.shield(inflight)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


class _FieldPart:
    """A text field: collected in memory, at most ``MAX_FIELD_BYTES``, and UTF-8."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._buffer = bytearray()

    def write(self, piece: bytes) -> None:
        self._buffer += piece
        if len(self._buffer) > MAX_FIELD_BYTES:
            msg = f"the form field {self.name!r} is larger than {MAX_FIELD_BYTES} bytes"
            raise BadBody(msg)

    def end(self, form: Form) -> None:
        try:
            form.fields[self.name] = self._buffer.decode("utf-8")
        except UnicodeDecodeError:
            msg = f"the form field {self.name!r} is not UTF-8"
            raise BadBody(msg) from None


class _Parts:
    """python-multipart's callbacks: read each part's headers, then route its data to the
    (first) ``file`` part on disk or to a text field."""

    def __init__(self, form: Form, spool_dir: Path) -> None:
        self.form = form
        self.spool_dir = spool_dir
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[str, bytes] = {}
        self._part: _FilePart | _FieldPart | None = None
        #: the bundle part, from its first byte until read_form has finished or abandoned it
        self.file_part: _FilePart | None = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        self._headers = {}
        if not name:
            msg = "a multipart part has no name"
            raise BadBody(msg)
        if name == FILE_FIELD and self.form.file is None:
            path = self.spool_dir / f"upload-{secrets.token_hex(8)}.part"
            self._part = self.file_part = _FilePart(path)
            self.form.file = path
        else:
            self._part = _FieldPart(name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.write(data[start:end])

    def on_part_end(self) -> None:
        if self._part is not None:
            self._part.end(self.form)
        self._part = None

    async def abandon_file(self) -> None:
        """Stop writing the bundle part, if any (the body ended early or failed)."""
        if self.file_part is not None:
            await self.file_part.abandon()

    def check_complete(self) -> None:
        """After the body: every part it began has ended."""
        if self._part is not None:
            msg = "the multipart body ended in the middle of a part"
            raise BadBody(msg)


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
    parts = _Parts(form, spool_dir)
    parser = MultipartParser(
        boundary,
        {
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
        },
    )
    limit = _BodyLimit(max_bytes, reset_after, on_reset)
    try:
        async for chunk in chunks:
            limit.count(chunk)
            parser.write(chunk)
            if parts.file_part is not None:
                await parts.file_part.settle()
        parser.finalize()
        parts.check_complete()
        if parts.file_part is not None:
            await parts.file_part.finish(form)
    except MultipartParseError as exc:
        try:
            await parts.abandon_file()
        finally:
            form.discard()
        msg = "the multipart body does not parse"
        raise BadBody(msg) from exc
    except BaseException:
        try:
            await parts.abandon_file()
        finally:
            form.discard()
        raise
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
