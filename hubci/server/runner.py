"""Serving a :class:`~hubci.server.app.Hub` with uvicorn, in the foreground or on a thread."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO

import uvicorn

from hubci.errors import ConfigError
from hubci.server.app import Hub

log = logging.getLogger("hubci.server")

#: Longest the server waits for open streams to end when it stops.
GRACEFUL_SECONDS = 3


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen; ConfigError (with the fix) when the address cannot be used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        msg = f"cannot resolve --host {host!r}: {exc.strerror}"
        raise ConfigError(msg, hint="use an IP address such as 127.0.0.1") from exc
    family, kind, _proto, _name, address = infos[0]
    # proto must say TCP: asyncio only turns Nagle off (TCP_NODELAY) for such sockets, and
    # without it every response on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, kind, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        msg = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise ConfigError(msg, hint="pass another --port (0 picks a free one)") from exc
    sock.set_inheritable(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ipaddress.ip_address(host).version == 6:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One Hub per data folder: a second one would fail the first one's running builds."""
    handle: IO[str] = open(data_dir / "hub.lock", "a+")  # noqa: SIM115 - closed below
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = f"another local Hub is using {data_dir}"
            raise ConfigError(msg, hint="stop it, or pass another --data-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


class HubServer(uvicorn.Server):
    """uvicorn's server, with signal handling that exits cleanly instead of re-raising."""

    def __init__(
        self, hub: Hub, *, access_log: bool, on_exit: Callable[[], None] | None = None
    ) -> None:
        config = uvicorn.Config(
            hub.asgi(),
            log_config=None,
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
        )
        super().__init__(config)
        self.hub = hub
        self.on_exit = on_exit

    def stop(self) -> None:
        """Ask the server to stop: builds are cancelled, streams end, connections close."""
        self.hub.workers.stopping.set()
        self.hub.bell.ring()
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:  # noqa: ARG002
        log.info("signal %s: stopping", signal.Signals(sig).name)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.stop()
        if self.on_exit is not None:
            self.on_exit()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def serve_until_started(self, sock: socket.socket, started: Callable[[], None]) -> None:
        """Serve on ``sock``; call ``started`` once the server accepts requests."""
        task = asyncio.create_task(self.serve(sockets=[sock]))
        while not self.started and not task.done():
            await asyncio.sleep(0.01)
        if self.started:
            started()
        await task
