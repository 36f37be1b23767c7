"""A hostile Executor Hub on 127.0.0.1, for tests of what the Hub client does against a server
that misbehaves on purpose.

:class:`HostileHub` speaks just enough HTTP/1.1 (keep-alive, Content-Length and chunked request
bodies) to answer the RPCs that ``hubci push``/``hubci status`` send, normally, except the one
RPC named by ``target``, which gets the ``mode``:

=================  ===========================================================================
``normal``         a well-behaved Hub (also the redirect target: it records every request)
``silent``         reads the request head, then nothing: no body read, no answer, ever
``drip-headers``   an answer head dripped one byte a second, never ending
``drip-body``      a complete head, then a body without newline, one byte a second
``drip-chunked``   a chunked body whose framing and data arrive one byte a second
``huge-chunk``     one 2 GiB chunk, sent as fast as the client reads it
``garbage``        endless lines that are not JSON
``big-line``       one 50 MB line, then silence
``gzip-bomb``      ``Content-Encoding: gzip``: ~1 MiB that inflates to 1 GiB of zeros, then
                   silence
``redirect-302``   ``302``/``307`` to ``redirect_to`` (a URL with userinfo, path and query)
``redirect-307``
=================  ===========================================================================

Answers that stay open (drips, garbage, silence) last until the client goes or the Hub stops.
:meth:`HostileHub.stop` ends every connection and joins every thread; use the context manager
(or a fixture around it) so that a failing test stops it too.
"""

from __future__ import annotations

import functools
import json
import socket
import socketserver
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

MODES = (
    "normal",
    "silent",
    "drip-headers",
    "drip-body",
    "drip-chunked",
    "huge-chunk",
    "garbage",
    "big-line",
    "gzip-bomb",
    "redirect-302",
    "redirect-307",
    "fixed",
)
USER = "x"
TASK_ID = "d" * 24
BIG_LINE_BYTES = 50 * 1000 * 1000
BOMB_BYTES = 1 << 30
HUGE_CHUNK_BYTES = 1 << 31
DRIP_SECONDS = 1.0
_MAX_HEAD = 64 * 1024


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip member of :data:`BOMB_BYTES` zeros (about 1 MiB), built in well under a second:
    one MiB of zeros deflated once, ended by a full flush (so that the block stands alone), and
    that block repeated."""
    zeros = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    end = deflater.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(BOMB_BYTES >> 20):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, BOMB_BYTES & 0xFFFFFFFF)
    return header + block * (BOMB_BYTES >> 20) + end + trailer


@dataclass(frozen=True)
class Seen:
    """One request as the Hub received it."""

    method: str  # the RPC method: the path's last segment
    path: str
    headers: dict[str, str]  # names lower-cased
    body_size: int | None  # None: never read (silent)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hub: HostileHub) -> None:
        self.hub = hub
        super().__init__(("127.0.0.1", 0), _Handler)


class HostileHub:
    """A loopback Hub that answers ``target`` with ``mode`` and everything else normally."""

    def __init__(
        self,
        mode: str = "normal",
        target: str = "",
        *,
        redirect_to: str | None = None,
        body: bytes = b"",
        encoding: str | None = None,
    ) -> None:
        if mode not in MODES:
            msg = f"unknown mode {mode!r}; one of {', '.join(MODES)}"
            raise ValueError(msg)
        if mode.startswith("redirect") and not redirect_to:
            msg = "redirect modes need redirect_to"
            raise ValueError(msg)
        self.mode = mode
        self.target = target
        self.redirect_to = redirect_to
        #: mode "fixed": the answer's body and Content-Encoding
        self.body = body
        self.encoding = encoding
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._server: _Server | None = None
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the hub first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    @property
    def connections(self) -> int:
        """How many connections clients opened so far."""
        with self._lock:
            return len(self._conns)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def track(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.append(conn)
            self._threads.append(threading.current_thread())
        if self.stopping.is_set():
            _shutdown(conn)

    def start(self) -> HostileHub:
        if self.mode == "gzip-bomb":
            gzip_bomb()  # built before the first request, not while a client waits
        self._server = _Server(self)
        self._serving = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="hostile-hub", daemon=True
        )
        self._serving.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """End every connection and thread; raises if one does not end within ``timeout``."""
        self.stopping.set()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            _shutdown(conn)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._serving is not None:
            self._serving.join(timeout)
        for thread in threads:
            thread.join(timeout)
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:
            msg = f"hostile hub threads did not end: {stuck}"
            raise RuntimeError(msg)

    def __enter__(self) -> HostileHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


def _lines(*objs: object) -> bytes:
    return b"".join(_json(o) + b"\n" for o in objs)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def setup(self) -> None:
        self.hub = self.server.hub
        self.rfile = self.request.makefile("rb")
        self.hub.track(self.request)

    def finish(self) -> None:
        self.rfile.close()

    def handle(self) -> None:
        try:
            while not self.hub.stopping.is_set():
                head = self._read_head()
                if head is None:
                    return
                path, headers = head
                method = path.split("?", 1)[0].rsplit("/", 1)[-1]
                hostile = self.hub.mode != "normal" and method == self.hub.target
                if hostile and self.hub.mode == "silent":
                    self.hub.record(Seen(method, path, headers, None))
                    self.hub.stopping.wait()
                    return
                size = self._read_body(headers)
                self.hub.record(Seen(method, path, headers, size))
                if hostile and not self.hub.mode.startswith("redirect"):
                    self._hostile(method)
                    return
                if hostile:
                    self._redirect(method)
                else:
                    self._normal(method, headers)
        except OSError:
            return  # the client went away, or the hub stops

    # -- requests ---------------------------------------------------------------------------
    def _read_head(self) -> tuple[str, dict[str, str]] | None:
        line = self.rfile.readline(_MAX_HEAD)
        if not line.strip():
            return None
        parts = line.decode("latin-1").split()
        path = parts[1] if len(parts) > 1 else "/"
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(_MAX_HEAD)
            if raw in (b"", b"\r\n", b"\n"):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return path, headers

    def _read_body(self, headers: dict[str, str]) -> int:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            total = 0
            while True:
                size = int(self.rfile.readline(_MAX_HEAD).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(_MAX_HEAD) not in (b"", b"\r\n", b"\n"):
                        pass
                    return total
                total += self._skip(size)
                self.rfile.readline(_MAX_HEAD)
        return self._skip(int(headers.get("content-length") or 0))

    def _skip(self, size: int) -> int:
        got = 0
        while got < size:
            data = self.rfile.read(min(64 * 1024, size - got))
            if not data:
                break
            got += len(data)
        return got

    # -- answers ----------------------------------------------------------------------------
    def _send(self, status: str, body: bytes, kind: str = "application/json") -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
        self.request.sendall(head.encode() + body)

    def _normal(self, method: str, headers: dict[str, str]) -> None:
        if method == "user.identity.whoami":
            self._send("200 OK", _json({"code": 200, "data": {"name": USER, "nickname": USER}}))
        elif method == "executor.listAsyncTasks":
            task = {
                "_id": TASK_ID,
                "traceId": headers.get("jinameta-session-id", ""),
                "status": "pending",
            }
            self._send("200 OK", _json({"code": 200, "data": [task]}))
        elif method in ("executor.push", "executor.update"):
            payload = {"id": "abcd1234", "name": "HelloExecutor", "visibility": "public"}
            body = _lines(
                {"type": "init", "subject": "createExecutor", "message": "accepted"},
                {"type": "complete", "subject": "createExecutor", "payload": payload},
            )
            self._send("201 Created", body, "application/x-ndjson")
        elif method == "executor.queryProgress":
            body = _lines(
                {"type": "report", "status": "succeeded", "result": {"id": "abcd1234"}},
            )
            self._send("200 OK", body, "application/x-ndjson")
        else:
            self._send("404 Not Found", _json({"code": 404, "message": "no such method"}))

    def _redirect(self, method: str) -> None:
        code = self.hub.mode.rsplit("-", 1)[-1]
        reason = "Found" if code == "302" else "Temporary Redirect"
        location = f"{self.hub.redirect_to}/v2/rpc/{method}?token=from-the-location"
        head = f"HTTP/1.1 {code} {reason}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        self.request.sendall(head.encode())

    def _hostile(self, method: str) -> None:
        kind = "application/json" if method.startswith("user.") else "application/x-ndjson"
        mode = self.hub.mode
        if mode == "drip-headers":
            self._drip(b"HTTP/1.1 200 OK\r\n" + b"".join(_endless_header_lines()))
            return
        if mode == "fixed":
            extra = [f"Content-Length: {len(self.hub.body)}"]
            if self.hub.encoding:
                extra.append(f"Content-Encoding: {self.hub.encoding}")
            self._head(kind, *extra, "Connection: close")
            self.request.sendall(self.hub.body)
            return  # and close: the client's next call opens a new connection
        if mode == "drip-body":
            self._head(kind, "Connection: close")
            self._drip(b"x" * (1 << 20))
            return
        if mode == "drip-chunked":
            self._head(kind, "Transfer-Encoding: chunked")
            self._drip(b"1\r\nx\r\n" * (1 << 16))
            return
        if mode == "huge-chunk":
            self._head(kind, "Transfer-Encoding: chunked")
            self._flood(b"%x\r\n" % HUGE_CHUNK_BYTES, b"x" * (1 << 20), HUGE_CHUNK_BYTES)
        elif mode == "garbage":
            self._head(kind, "Connection: close")
            batch = b"this is not json, and never will be\n" * 1000
            while not self.hub.stopping.wait(0.01):
                self.request.sendall(batch)
        elif mode == "big-line":
            self._head(kind, "Transfer-Encoding: chunked")
            self._send_chunk(b'{"type": "console", "payload": "')
            self._flood(b"", b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20)), BIG_LINE_BYTES)
            self._send_chunk(b'"}\n')
        elif mode == "gzip-bomb":
            self._head(kind, "Transfer-Encoding: chunked", "Content-Encoding: gzip")
            bomb = memoryview(gzip_bomb())
            for start in range(0, len(bomb), 64 * 1024):
                self._send_chunk(bytes(bomb[start : start + 64 * 1024]))
        self._linger()

    def _head(self, kind: str, *extra: str) -> None:
        lines = ["HTTP/1.1 200 OK", f"Content-Type: {kind}", *extra, "", ""]
        self.request.sendall("\r\n".join(lines).encode())

    def _send_chunk(self, data: bytes) -> None:
        self.request.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def _drip(self, data: bytes) -> None:
        """Send ``data`` one byte a second (the first at once) until it, the client or the hub
        ends."""
        for index in range(len(data)):
            if index and self.hub.stopping.wait(DRIP_SECONDS):
                return
            self.request.sendall(data[index : index + 1])

    def _flood(self, first: bytes, block: bytes, total: int) -> None:
        """``first``, then ``block`` over and over: about ``total`` bytes, as fast as read."""
        self.request.sendall(first)
        sent = 0
        while sent < total and not self.hub.stopping.is_set():
            self.request.sendall(block)
            sent += len(block)

    def _linger(self) -> None:
        """Say nothing more; end when the client closes (or the hub stops)."""
        while self.request.recv(64 * 1024):
            pass


def _endless_header_lines() -> Iterator[bytes]:
    for number in range(1 << 16):
        yield b"X-Drip-%d: a\r\n" % number
