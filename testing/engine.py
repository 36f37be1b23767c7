"""A real Docker Engine API for tests: podman's Docker-compatible service in a temp run folder.

There is no Docker daemon and no registry on the development and CI machines, so the tests start
``podman system service`` with all of its state (storage, runroot, events, temp files) inside one
run folder: overlay storage (vfs where the kernel refuses overlay), runc as the runtime,
cgroupfs, events logged to a file (the two config files below, passed through
``CONTAINERS_STORAGE_CONF``/``CONTAINERS_CONF``, plus ``TMPDIR``), and a ``registries.conf``
of its own (``CONTAINERS_REGISTRIES_CONF``) that allows no unqualified search and blocks the
public registries: a base image the engine does not hold fails at once, locally, without any
lookup leaving the machine. Test images build ``FROM scratch``. The service is stopped by its
own PID.

Fixtures (registered through ``tests/conftest.py`` ``pytest_plugins`` or imported by a conftest):

- ``docker_engine`` (session): the running :class:`EngineService`;
- ``docker_client`` (session): a ``docker.DockerClient`` connected to it;
- ``docker_host`` (function): sets ``DOCKER_HOST`` for the test and returns the URL.

When podman is not installed or its service cannot start, these fixtures skip with the reason,
unless ``HUBCI_REQUIRE_ENGINE=1`` (set by ``.ci/run``): then they fail, so CI cannot pass with
the engine tests silently skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import docker

REQUIRE_ENV = "HUBCI_REQUIRE_ENGINE"
START_TIMEOUT_S = 30.0

STORAGE_CONF = """\
[storage]
driver = "{driver}"
runroot = "{run}/run"
graphroot = "{run}/root"
"""

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{run}/events.log"
tmp_dir = "{run}/libpod-tmp"
volume_path = "{run}/volumes"
runtime = "runc"

[network]
# a network made through this engine stays in its run folder, not in /etc/containers/networks
network_config_dir = "{run}/networks"
"""


#: No registry is reachable from these machines, and none may be tried: a base image missing from
#: the engine's storage must fail at once, locally, without a DNS lookup of any registry.
REGISTRIES_CONF = """\
unqualified-search-registries = []

[[registry]]
location = "docker.io"
blocked = true

[[registry]]
location = "quay.io"
blocked = true

[[registry]]
location = "ghcr.io"
blocked = true

[[registry]]
location = "gcr.io"
blocked = true

[[registry]]
location = "registry.k8s.io"
blocked = true
"""


class EngineStartError(RuntimeError):
    """podman is missing or its API service did not come up."""


@dataclass
class EngineService:
    """A running ``podman system service`` and everything needed to reach or stop it."""

    run_dir: Path
    socket: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        """The ``DOCKER_HOST`` value for this engine."""
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self) -> docker.DockerClient:
        import docker

        return docker.DockerClient(base_url=self.url, timeout=120)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the service by its PID (SIGTERM, then SIGKILL after ``timeout``), then undo
        the mounts its storage left under the run folder (the overlay driver mounts its own
        folder), so that the folder can be removed."""
        stop_process(self.proc, timeout)
        unmount_below(self.run_dir)


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM ``proc``, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def unmount_below(folder: Path) -> None:
    """Lazily unmount every mount point inside ``folder``, deepest first (Linux only)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    except OSError:
        return
    prefix = str(folder.resolve()) + "/"
    inside = sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)
    for point in inside:
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _death_signal() -> Callable[[], None]:
    """What the child runs before podman starts: end it when the test process ends, however it
    ends (a SIGTERM or SIGKILL runs no fixture finalizer, and the service would outlive the
    run). libc is looked up here, in the parent: the child only makes the one call (nothing may
    be imported between fork and exec while other threads hold locks)."""
    import ctypes
    import ctypes.util

    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    pr_set_pdeathsig = 1
    term = int(signal.SIGTERM)

    def in_child() -> None:
        prctl(pr_set_pdeathsig, term, 0, 0, 0)

    return in_child


def podman_path() -> str | None:
    return shutil.which("podman")


def _write_configs(
    run: Path, insecure_registries: tuple[str, ...] = (), driver: str = "vfs"
) -> dict[str, str]:
    for sub in ("run", "root", "tmp", "libpod-tmp", "volumes"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    (run / "storage.conf").write_text(STORAGE_CONF.format(run=run, driver=driver), encoding="utf-8")
    (run / "containers.conf").write_text(CONTAINERS_CONF.format(run=run), encoding="utf-8")
    local = "".join(
        f'\n[[registry]]\nlocation = "{where}"\ninsecure = true\n' for where in insecure_registries
    )
    (run / "registries.conf").write_text(REGISTRIES_CONF + local, encoding="utf-8")
    env = dict(os.environ)
    env.update(
        CONTAINERS_STORAGE_CONF=str(run / "storage.conf"),
        CONTAINERS_CONF=str(run / "containers.conf"),
        CONTAINERS_REGISTRIES_CONF=str(run / "registries.conf"),
        TMPDIR=str(run / "tmp"),
    )
    env.pop("DOCKER_HOST", None)
    return env


def _ping(socket: Path) -> bool:
    """One ``GET /_ping`` over the unix socket (stdlib only, so a failure is cheap)."""
    import http.client
    import socket as socketlib

    class _UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            sock = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
            try:
                sock.settimeout(2.0)
                sock.connect(str(socket))
            except OSError:
                sock.close()
                raise
            self.sock = sock

    conn = _UnixConnection("localhost", timeout=2.0)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_engine(
    run_dir: Path,
    *,
    timeout: float = START_TIMEOUT_S,
    insecure_registries: tuple[str, ...] = (),
    storage_driver: str = "vfs",
) -> EngineService:
    """Start podman's API service with all its state under ``run_dir``; wait until it answers.
    ``insecure_registries``: loopback registries (``127.0.0.1:PORT``) it may reach over HTTP.
    ``storage_driver``: vfs works everywhere; overlay (what Docker on a runner uses) is faster
    where the kernel allows it (the start-up benchmark)."""
    for where in insecure_registries:
        if not where.startswith(("127.", "localhost:", "[::1]")):
            msg = f"{where}: only a registry on loopback may be used"
            raise EngineStartError(msg)
    podman = podman_path()
    if podman is None:
        msg = "podman is not installed (apt-get install -y podman runc)"
        raise EngineStartError(msg)
    run_dir = run_dir.resolve()
    env = _write_configs(run_dir, insecure_registries, storage_driver)
    socket = run_dir / "podman.sock"
    log = (run_dir / "service.log").open("wb")
    proc = subprocess.Popen(
        [podman, "system", "service", "--time=0", f"unix://{socket}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_death_signal(),
    )
    log.close()
    service = EngineService(run_dir=run_dir, socket=socket, proc=proc, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = (run_dir / "service.log").read_text(errors="replace").strip()
            last = output.splitlines()[-1] if output else "no output"
            msg = f"podman system service exited with code {proc.returncode}: {last}"
            raise EngineStartError(msg)
        if socket.exists() and _ping(socket):
            return service
        time.sleep(0.05)
    service.stop()
    msg = f"podman system service did not answer /_ping within {timeout:.0f} s"
    raise EngineStartError(msg)


def start_fast_engine(run_dir: Path, *, insecure_registries: tuple[str, ...] = ()) -> EngineService:
    """:func:`start_engine` on overlay storage (what Docker uses; with large images several
    times faster than vfs, which copies every layer whole), or on vfs where the kernel refuses
    overlay."""
    try:
        return start_engine(
            run_dir, insecure_registries=insecure_registries, storage_driver="overlay"
        )
    except EngineStartError:
        unmount_below(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        return start_engine(run_dir, insecure_registries=insecure_registries)


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when ``HUBCI_REQUIRE_ENGINE=1`` (CI must run these tests)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"Docker Engine API required ({REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"no Docker Engine API: {reason}")


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[EngineService]:
    """A podman API service for the whole session, stopped (by PID) at the end."""
    # A short path: unix socket paths are limited to 108 bytes.
    run_dir = Path(tempfile.mkdtemp(prefix="hubci-engine-"))
    try:
        service = start_fast_engine(run_dir)
    except EngineStartError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        unavailable(str(exc))
    try:
        yield service
    finally:
        service.stop()
        _remove_run_dir(service)


def _remove_run_dir(service: EngineService) -> None:
    """Remove the run folder (storage, sockets, logs); nothing else on the machine is touched."""
    shutil.rmtree(service.run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_client(docker_engine: EngineService) -> Iterator[Any]:
    """A ``docker.DockerClient`` for the session's engine."""
    client = docker_engine.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def docker_host(docker_engine: EngineService, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``DOCKER_HOST`` at the session's engine for one test; return the URL."""
    monkeypatch.setenv("DOCKER_HOST", docker_engine.url)
    return docker_engine.url


def normalize_ref(ref: str) -> str:
    """``docker.io/library/x:t`` / ``localhost/x:t`` -> ``x:t`` (podman normalises tag names)."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref
