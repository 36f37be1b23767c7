"""A real OCI registry on loopback for tests: CNCF distribution (Debian's ``docker-registry``).

:func:`start_registry` writes a config into a run folder (filesystem storage inside it,
``http.addr`` on 127.0.0.1 and a free port, deletes enabled) and starts ``docker-registry serve``
with it; with ``token_auth`` the registry trusts a Hub's tokens (the standard ``auth: token``
scheme: realm, service, issuer, the Hub's certificate as ``rootcertbundle``). The service is
stopped by its own PID, also when the test process dies (a parent-death signal).

Fixture: ``registry_binary`` (session) the path of ``docker-registry``; it skips when the
package is not installed unless ``HUBCI_REQUIRE_ENGINE=1`` (set by ``.ci/run``), which makes
it fail instead.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from testing.engine import REQUIRE_ENV, _death_signal, stop_process

if TYPE_CHECKING:
    from testing.engine import EngineService
    from testing.hub import HubProcess

START_TIMEOUT_S = 20.0


class RegistryStartError(RuntimeError):
    """docker-registry is missing or did not come up."""


@dataclass(frozen=True)
class TokenAuth:
    """What the registry needs to trust a Hub's tokens."""

    realm: str  # the Hub's token endpoint, e.g. http://127.0.0.1:PORT/v2/registry/token
    certificate: Path  # the Hub's token certificate (PEM)
    service: str = "hubci-registry"
    issuer: str = "hubci-hub"


@dataclass
class RegistryService:
    run_dir: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        """The registry part of image references: ``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return (self.run_dir / "registry.log").read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.proc, timeout)


def registry_path() -> str | None:
    return shutil.which("docker-registry")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config(run_dir: Path, port: int, token_auth: TokenAuth | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {run_dir / 'data'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if token_auth is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {token_auth.realm}",
            f"    service: {token_auth.service}",
            f"    issuer: {token_auth.issuer}",
            f"    rootcertbundle: {token_auth.certificate}",
        ]
    return "\n".join(lines) + "\n"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/", timeout=1):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code == 401  # token auth: it answers, asking for a token
    except OSError:
        return False


def start_registry(
    run_dir: Path, *, token_auth: TokenAuth | None = None, port: int = 0
) -> RegistryService:
    """Start ``docker-registry serve`` on 127.0.0.1 (``port``, 0: a free one) with its data
    under ``run_dir``."""
    binary = registry_path()
    if binary is None:
        msg = "docker-registry is not installed (apt-get install -y docker-registry)"
        raise RegistryStartError(msg)
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = run_dir / "config.yml"
    config.write_text(_config(run_dir, port, token_auth), encoding="utf-8")
    log = (run_dir / "registry.log").open("wb")
    proc = subprocess.Popen(
        [binary, "serve", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_death_signal(),
    )
    log.close()
    service = RegistryService(run_dir=run_dir, port=port, proc=proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = service.log().strip().splitlines()
            msg = f"docker-registry exited with code {proc.returncode}: "
            raise RegistryStartError(msg + (lines[-1] if lines else "no output"))
        if _answers(service.url):
            return service
        time.sleep(0.05)
    service.stop()
    msg = f"docker-registry did not answer on {service.url} within {START_TIMEOUT_S:.0f} s"
    raise RegistryStartError(msg)


@pytest.fixture(scope="session")
def registry_binary() -> str:
    import os

    found = registry_path()
    if found is None:
        reason = "docker-registry is not installed (apt-get install -y docker-registry)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    return found


@dataclass
class HubStack:
    """A self-hosted Hub as docs/self-hosting.md sets it up, all on loopback: ``hubci hub serve
    --builder docker --registry`` as its own process on a fixed port, a registry whose
    ``auth: token`` trusts it, the Engine it builds and pushes with, and a second, empty Engine
    that pulls as a consumer would."""

    hub: HubProcess
    registry: RegistryService
    builds: EngineService
    consumer: EngineService
    data: Path

    def stop(self) -> None:
        for service in (self.hub, self.registry, self.builds, self.consumer):
            service.stop()

    def package(self, ref: str, token: str | None = None, **fields: Any) -> Any:
        """The Hub's ``getPackage`` answer (a requests.Response) for ``ref``, as the client
        asks when it needs the image too."""
        import requests

        headers = {"Authorization": f"token {token}"} if token else {}
        body = {"id": ref, "include": ["code", "docker"], **fields}
        url = f"{self.hub.url}/v2/rpc/executor.getPackage"
        return requests.post(url, json=body, headers=headers, timeout=30)


def start_stack(root: Path, users: Mapping[str, str], *, driver: str = "vfs") -> HubStack:
    """Start a :class:`HubStack` with its state under ``root``; what started is stopped again
    when a later part fails. Raises EngineStartError or RegistryStartError.

    ``driver`` is the Engines' storage: vfs works everywhere; ``overlay`` (what Docker uses, and
    several times faster with large images) falls back to vfs where the kernel refuses it."""
    from testing.engine import start_engine, start_fast_engine
    from testing.hub import start_hub_process

    port = free_port()
    host = f"127.0.0.1:{port}"
    started: list[Any] = []

    def engine(name: str) -> EngineService:
        if driver == "overlay":
            return start_fast_engine(root / name, insecure_registries=(host,))
        return start_engine(root / name, insecure_registries=(host,), storage_driver=driver)

    try:
        builds = engine("builds")
        started.append(builds)
        consumer = engine("consumer")
        started.append(consumer)
        hub = start_hub_process(
            root / "hub",
            port=free_port(),
            users=dict(users),
            args=["--builder", "docker", "--registry", f"http://{host}"],
            env={"DOCKER_HOST": builds.url},
        )
        started.append(hub)
        auth = TokenAuth(
            realm=f"{hub.url}/v2/registry/token",
            certificate=root / "hub" / "registry-token.crt",
        )
        registry = start_registry(root / "registry", token_auth=auth, port=port)
    except BaseException:
        for service in reversed(started):
            service.stop()
        raise
    return HubStack(hub, registry, builds, consumer, root / "hub")
