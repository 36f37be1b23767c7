"""Connecting to a Docker Engine API: ``DOCKER_HOST`` or the default socket, one clear error.

The ``docker`` SDK is imported lazily so that importing :mod:`hubci.image` stays cheap.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubci.errors import EngineUnavailable

if TYPE_CHECKING:
    import docker

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
#: Seconds for one Engine API call (a build stream has no limit: builds take what they take).
DEFAULT_TIMEOUT_S = 600

HOW_TO_GET_ONE = (
    "start Docker (or `podman system service --time=0 unix:///run/podman.sock`) "
    "and point DOCKER_HOST at it, e.g. DOCKER_HOST=unix:///run/podman.sock"
)


@dataclass(frozen=True)
class EngineInfo:
    """What the Engine says about itself; ``platform`` is its native one, e.g. ``linux/amd64``."""

    url: str
    version: str
    os: str
    arch: str

    @property
    def platform(self) -> str:
        return f"{self.os}/{normalize_arch(self.arch)}"


def normalize_arch(arch: str) -> str:
    """Engine/Go architecture names as Docker platform names (``x86_64`` -> ``amd64``)."""
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7", "i386": "386"}.get(
        arch, arch
    )


def engine_url() -> str:
    """The Engine address hubci will use: ``DOCKER_HOST`` or the default socket."""
    return os.environ.get("DOCKER_HOST", "").strip() or DEFAULT_SOCKET


def _display(url: str) -> str:
    """The address without any userinfo (``ssh://user:pw@host`` must not be printed)."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


class _DropBuildRequests(logging.Filter):
    """The Engine API takes build args in the query string of ``POST /build``; urllib3 logs
    request lines at DEBUG level. Those records never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        return "/build?" not in message


_BUILD_REQUEST_FILTER = _DropBuildRequests()


def connect(*, timeout: int = DEFAULT_TIMEOUT_S) -> tuple[docker.DockerClient, EngineInfo]:
    """A client for the Engine at ``DOCKER_HOST`` (or the default socket), checked with a ping.

    Raises :class:`EngineUnavailable` (exit 3) naming the address and how to get an Engine.
    """
    import docker
    import docker.errors
    import requests.exceptions

    pool_log = logging.getLogger("urllib3.connectionpool")
    if _BUILD_REQUEST_FILTER not in pool_log.filters:
        pool_log.addFilter(_BUILD_REQUEST_FILTER)
    url = engine_url()
    shown = _display(url)
    if url.startswith("unix://"):
        _probe_unix_socket(url[len("unix://") :], shown)
    client: docker.DockerClient | None = None
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
        version = client.version()
    except (
        docker.errors.DockerException,
        requests.exceptions.RequestException,
        OSError,
        ValueError,
    ) as exc:
        if client is not None:
            client.close()
        msg = f"no Docker Engine API reachable at {shown}: {_reason(exc)}"
        raise EngineUnavailable(msg, hint=HOW_TO_GET_ONE) from None
    info = EngineInfo(
        url=shown,
        version=str(version.get("Version", "unknown")),
        os=str(version.get("Os", "linux")),
        arch=str(version.get("Arch", "amd64")),
    )
    return client, info


def _probe_unix_socket(path: str, shown: str) -> None:
    """Connect once with the standard library (the SDK leaks the socket of a failed connect)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5.0)
        sock.connect(path)
    except OSError as exc:
        msg = f"no Docker Engine API reachable at {shown}: {_reason(exc)}"
        raise EngineUnavailable(msg, hint=HOW_TO_GET_ONE) from None
    finally:
        sock.close()


def engine_available() -> bool:
    """True when an Engine API answers at ``DOCKER_HOST`` / the default socket (for the Action)."""
    try:
        client, _ = connect(timeout=10)
    except EngineUnavailable:
        return False
    client.close()
    return True


def _reason(exc: BaseException) -> str:
    """A one-line cause: the innermost message, without the SDK's nested reprs."""
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or type(inner).__name__
    if isinstance(inner, FileNotFoundError) or "No such file or directory" in text:
        return "the socket does not exist"
    if isinstance(inner, ConnectionRefusedError) or "Connection refused" in text:
        return "connection refused"
    if isinstance(inner, PermissionError) or "Permission denied" in text:
        return "permission denied on the socket"
    return text.splitlines()[0][:200]
