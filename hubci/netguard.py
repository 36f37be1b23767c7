"""Guards for blocking HTTP calls: a watchdog that ends any wait at its deadline whatever the
server does, and a body reader whose size, memory and read sizes stay bounded.

requests and urllib3 time out each socket operation, never a whole call: a server that drips one
byte a second (status line, headers, chunk sizes or body) keeps a call alive for ever. A
:class:`Watchdog` ends such a call from another thread by shutting its sockets down
(``socket.socket.shutdown``: a blocked or later read sees EOF, a write fails) and remembers that
it did, so that the caller reports its deadline instead of a broken connection. Sockets reach the
watchdog through :class:`GuardedAdapter`, whose connections register their socket with the
calling thread's active watchdog when they connect and before every request on a pooled
connection. Use ``with guard(expires):`` around a call, or a :class:`Watchdog` that outlives one
call (an open stream) with :meth:`Watchdog.active` and :meth:`Watchdog.register`.

:func:`iter_body` reads a ``stream=True`` response as it arrives, never more than ``piece`` bytes
at a time, with urllib3's gzip/deflate decoding bounded per read (urllib3 >= 2.6: a gzip bomb
inflates piece by piece, never at once); :func:`read_body` adds a total size limit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

from hubci.errors import HubError
from hubci.output.sizes import human_size

#: Largest piece read from a socket, or inflated, in one step.
READ_PIECE = 64 * 1024

_local = threading.local()


class WatchdogFired(TimeoutError):
    """A call ended because its watchdog shut its connection down."""


class BodyRefused(HubError):
    """A response body that is too large, or encoded in a way that cannot be read safely."""


def _shutdown(sock: socket.socket) -> None:
    try:
        # The base-class method also for SSL sockets: SSLSocket.shutdown would try a TLS
        # close_notify exchange, which is exactly the kind of wait we are ending.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing left to end


class Watchdog:
    """Shuts registered sockets down once ``time.monotonic()`` passes its expiry.

    One timer thread per watchdog, started when it first has an expiry. :meth:`arm` moves the
    expiry (e.g. a stall timer that restarts on every event); after it fired, the watchdog
    stays fired and shuts any socket registered later down at once. :meth:`close` stops it.
    """

    def __init__(self, expires: float | None = None) -> None:
        self._cond = threading.Condition()
        self._expires = expires
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._closed = False
        self._thread: threading.Thread | None = None
        with self._cond:
            self._start()

    @property
    def fired(self) -> bool:
        with self._cond:
            return self._fired

    @property
    def expires(self) -> float | None:
        with self._cond:
            return self._expires

    def arm(self, expires: float | None) -> None:
        """Fire at ``expires`` (time.monotonic) instead; None: never."""
        with self._cond:
            if self._closed or self._fired:
                return
            self._expires = expires
            self._start()
            self._cond.notify_all()

    def register(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the watchdog fires (at once if it has fired)."""
        with self._cond:
            if self._closed or any(known is sock for known in self._sockets):
                return
            if self._fired:
                _shutdown(sock)
                return
            self._sockets.append(sock)

    def close(self) -> None:
        """Stop the timer; registered sockets are forgotten, never shut down after this."""
        with self._cond:
            self._closed = True
            self._sockets.clear()
            self._cond.notify_all()

    @contextmanager
    def active(self) -> Iterator[Watchdog]:
        """Make this the calling thread's watchdog: connections opened or reused inside register
        their socket with it."""
        stack = _stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()

    def _start(self) -> None:  # with self._cond held
        if self._thread is None and self._expires is not None and not self._closed:
            self._thread = threading.Thread(target=self._run, name="hubci-watchdog", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._expires is None:
                    self._cond.wait()
                    continue
                left = self._expires - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._fired = True
                for sock in self._sockets:
                    _shutdown(sock)
                self._sockets.clear()
                return


def _stack() -> list[Watchdog]:
    stack: list[Watchdog] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
    return stack


def register_socket(sock: socket.socket) -> None:
    """Register ``sock`` with the calling thread's active watchdog, if there is one."""
    stack = _stack()
    if stack:
        stack[-1].register(sock)


@contextmanager
def guard(expires: float | None) -> Iterator[Watchdog]:
    """``with guard(deadline) as dog:`` the blocking calls inside end when ``deadline``
    (time.monotonic) passes; ``dog.fired`` then tells that the watchdog ended them."""
    dog = Watchdog(expires)
    try:
        with dog.active():
            yield dog
    finally:
        dog.close()


# -- the adapter ----------------------------------------------------------------------------


class GuardedHTTPConnection(HTTPConnection):
    """A connection that registers its socket with the calling thread's watchdog."""

    _guard_socket: socket.socket | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._guard_socket = sock  # the TCP socket, also under TLS
        register_socket(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None and self._guard_socket is not None:  # a reused connection
            register_socket(self._guard_socket)
        super().request(*args, **kwargs)


class GuardedHTTPSConnection(GuardedHTTPConnection, HTTPSConnection):
    """:class:`GuardedHTTPConnection` over TLS."""


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


_POOLS: dict[str, Any] = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections register with the active watchdog and send request
    bodies in ``blocksize`` pieces."""

    def __init__(self, *, blocksize: int = 16384, **kwargs: Any) -> None:
        self._blocksize = blocksize  # before super(): it calls init_poolmanager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blocksize", self._blocksize)
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # HTTP(S) proxies; SOCKS keeps its own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager


def response_socket(resp: requests.Response) -> socket.socket | None:
    """The TCP socket a ``stream=True`` response is read from (None if unknown)."""
    connection = getattr(resp.raw, "connection", None)
    sock = getattr(connection, "_guard_socket", None) or getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


# -- bounded bodies -------------------------------------------------------------------------


#: What hubci asks for (``Accept-Encoding``) and reads; anything else is refused.
ENCODINGS = ("gzip", "x-gzip", "deflate")


def check_encoding(encoding: str | None, *, what: str, hint: str | None = None) -> str | None:
    """The one Content-Encoding of a body (None for identity); BodyRefused for any other."""
    tokens = [t.strip().lower() for t in (encoding or "").split(",")]
    tokens = [t for t in tokens if t and t != "identity"]
    if len(tokens) > 1 or (tokens and tokens[0] not in ENCODINGS):
        shown = "".join(c if c.isprintable() else "?" for c in (encoding or ""))[:40]
        msg = f"{what} uses Content-Encoding {shown!r}, which hubci does not read"
        raise BodyRefused(msg, hint)
    return tokens[0] if tokens else None


def iter_body(
    resp: requests.Response,
    *,
    what: str,
    hint: str | None = None,
    piece: int = READ_PIECE,
) -> Iterator[bytes]:
    """The decoded body of a ``stream=True`` response in pieces of at most ``piece`` bytes.

    Each read takes what has arrived (a 2 GB chunk is read a piece at a time), and urllib3
    inflates gzip/deflate with at most ``piece`` bytes out per read (``max_length``), so a gzip
    bomb never inflates at once. Raises :class:`BodyRefused` for another Content-Encoding or
    corrupt compressed data; transport errors propagate.
    """
    encoding = check_encoding(resp.headers.get("Content-Encoding"), what=what, hint=hint)
    raw = resp.raw
    while True:
        try:
            data = raw.read1(piece, decode_content=True)
        except urllib3.exceptions.DecodeError:
            msg = f"{what} is not valid {encoding} data (cut or corrupt)"
            raise BodyRefused(msg, hint) from None
        if not data:
            return
        yield data


def read_body(
    resp: requests.Response,
    *,
    limit: int,
    what: str,
    hint: str | None = None,
) -> bytes:
    """The whole decoded body, refused with :class:`BodyRefused` past ``limit`` bytes (checked
    before and while reading, so neither memory nor time goes to the rest)."""
    too_large = f"{what} is larger than {human_size(limit)}"
    declared = resp.headers.get("Content-Length", "")
    encoded = resp.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")
    if declared.strip().isdigit() and int(declared) > limit and not encoded:
        raise BodyRefused(too_large, hint)
    body = bytearray()
    for chunk in iter_body(resp, what=what, hint=hint, piece=min(READ_PIECE, limit + 1)):
        body += chunk
        if len(body) > limit:
            raise BodyRefused(too_large, hint)
    return bytes(body)
