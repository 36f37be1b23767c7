"""The local Hub in-process, on a background thread: ``with embedded_hub() as hub: hub.url``.

Used by the tests and by ``hubci push --hub local``. The server binds before the context is
entered, answers requests until it exits, then stops its builds and closes its state.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hubci import rules
from hubci.errors import HubciError
from hubci.secret import Secret
from hubci.server.config import (
    HubConfig,
    check_accounts,
    default_data_dir,
    parse_user,
    prepare_data_dir,
)

#: Longest ``embedded_hub`` waits for the server thread to start or to stop.
START_SECONDS = 15.0
DEFAULT_USER = "local"


class HubStartError(HubciError):
    """The embedded Hub did not start."""


@dataclass
class HubHandle:
    url: str  # e.g. http://127.0.0.1:PORT (no trailing slash)
    default_user: str
    default_token: str = field(repr=False)
    data_dir: Path
    _hub: object = field(repr=False, default=None)

    def add_fault(self, spec: str) -> None:
        """Arm a fault while the Hub runs (same specs as ``--fault``)."""
        from hubci.server.app import Hub

        assert isinstance(self._hub, Hub)
        self._hub.faults.add(spec)

    def clear_faults(self) -> None:
        from hubci.server.app import Hub

        assert isinstance(self._hub, Hub)
        self._hub.faults.clear()


def resolve_users(users: Mapping[str, str] | None) -> dict[str, Secret]:
    """Check the accounts; with none, one user ``local`` with a random token."""
    from hubci.server.auth import new_token

    if not users:
        return {DEFAULT_USER: Secret(new_token())}
    return check_accounts(parse_user(f"{name}={token}") for name, token in users.items())


class _PeerGoneFilter(logging.Filter):
    """Drops asyncio's "socket.send() raised exception." warning: in the embedded Hub it only
    means a client went away mid-answer (e.g. a push that stopped following), which the Hub
    already handles; without a handler it would land on the CLI user's stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("socket.send() raised exception")


_PEER_GONE = _PeerGoneFilter()


@contextmanager
def embedded_hub(
    *,
    data_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    users: Mapping[str, str] | None = None,
    builder: str = "check",
    faults: Sequence[str] = (),
    build_seconds: float | None = None,
    max_upload_bytes: int | None = None,
) -> Iterator[HubHandle]:
    """Run a local Hub on a background thread for the duration of the ``with`` block.

    ``max_upload_bytes`` lowers the request-body limit (tests of the 413 answers).
    """
    from hubci.server.app import Hub
    from hubci.server.runner import HubServer, data_dir_lock, listen, url_of

    accounts = resolve_users(users)
    folder = prepare_data_dir(data_dir if data_dir is not None else default_data_dir())
    config = HubConfig(
        data_dir=folder,
        users=accounts,
        builder=builder,
        faults=tuple(faults),
        build_seconds=rules.HUB_DEFAULT_BUILD_SECONDS if build_seconds is None else build_seconds,
        max_upload_bytes=max_upload_bytes or rules.HUB_MAX_UPLOAD_BYTES,
    )
    from hubci.output.logs import install

    install()  # a library warning that reaches stderr is redacted and inert too
    with ExitStack() as stack:
        asyncio_log = logging.getLogger("asyncio")
        asyncio_log.addFilter(_PEER_GONE)
        stack.callback(asyncio_log.removeFilter, _PEER_GONE)
        stack.enter_context(data_dir_lock(folder))
        sock = listen(host, port)
        stack.callback(sock.close)
        hub = Hub(config)
        stack.callback(hub.close)
        server = HubServer(hub, access_log=False)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)

        thread = threading.Thread(target=run, name="hubci-hub", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            server.should_exit = True
            thread.join(START_SECONDS)
            reason = f": {failure[0]}" if failure else ""
            msg = f"the embedded local Hub did not start{reason}"
            raise HubStartError(msg, hint="run with --debug and report the output")

        def stop() -> None:
            server.stop()
            thread.join(START_SECONDS + 5)

        stack.callback(stop)
        user, token = next(iter(accounts.items()))
        yield HubHandle(
            url=url_of(sock),
            default_user=user,
            default_token=token.reveal(),
            data_dir=folder,
            _hub=hub,
        )
