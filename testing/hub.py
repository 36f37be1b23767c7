"""The local Hub for tests: in-process fixtures and a real ``hubci hub serve`` subprocess.

Fixtures (registered through ``tests/conftest.py`` ``pytest_plugins``):

- ``hub``: an :func:`~hubci.server.embedded.embedded_hub` per test, users ``alice`` and ``bob``
  (tokens :data:`ALICE_TOKEN`, :data:`BOB_TOKEN`), fast builds;
- ``module_hub``: the same, shared by the tests of one module.

:func:`start_hub_process` runs ``python -m hubci hub serve`` and waits for its
``hubci hub listening on URL`` line; stop it with :meth:`HubProcess.stop` (SIGTERM) or
:meth:`HubProcess.kill` (SIGKILL).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle, embedded_hub
from testing.engine import _death_signal

ALICE = "alice"
ALICE_TOKEN = "alice-token-4f1c2e9a7b"
BOB = "bob"
BOB_TOKEN = "bob-token-8d3e6a1f0c"
USERS = {ALICE: ALICE_TOKEN, BOB: BOB_TOKEN}
#: Build time of the test Hubs: long enough to be "in progress", short enough to be cheap.
TEST_BUILD_SECONDS = 0.05
LISTENING = "hubci hub listening on "
START_TIMEOUT = 30.0


class HubProcessError(RuntimeError):
    pass


@dataclass
class HubProcess:
    url: str
    pid: int
    proc: subprocess.Popen[str] = field(repr=False)
    stderr_path: Path
    #: every stdout line so far (the listening line should be the only one)
    stdout_lines: list[str] = field(default_factory=list)
    _pump: threading.Thread | None = field(default=None, repr=False)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; SIGKILL if it does not exit in ``timeout``. Returns the exit code."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return self.kill()
        return self._reap()

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        return self._reap()

    def _reap(self) -> int:
        code = self.proc.wait()
        if self._pump is not None:
            self._pump.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code


def start_hub_process(
    data_dir: Path,
    *,
    port: int = 0,
    users: dict[str, str],
    args: Sequence[str] = (),
    timeout: float = START_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> HubProcess:
    """Start ``hubci hub serve`` (users passed via ``HUBCI_HUB_USERS``, not argv); ``env`` adds
    to the environment (e.g. the ``DOCKER_HOST`` of its builds)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = data_dir.parent / f"{data_dir.name}-serve-{time.monotonic_ns()}.log"
    env = {
        **os.environ,
        **(env or {}),
        "HUBCI_HUB_USERS": " ".join(f"{n}={t}" for n, t in users.items()),
    }
    cmd = [
        sys.executable,
        "-m",
        "hubci",
        "hub",
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        *args,
    ]
    with open(stderr_path, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            preexec_fn=_death_signal(),  # ended with the test process, however that ends
        )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    handle = HubProcess(url="", pid=proc.pid, proc=proc, stderr_path=stderr_path)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            handle.stdout_lines.append(line)
            lines.put(line)
        lines.put(None)

    handle._pump = threading.Thread(target=pump, daemon=True)
    handle._pump.start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(0.01, remaining))
        except queue.Empty:
            line = ""
        if line is None or (not line and time.monotonic() >= deadline):
            handle.kill()
            msg = f"hubci hub serve did not start: {handle.stderr()[-2000:]}"
            raise HubProcessError(msg)
        if line.startswith(LISTENING):
            handle.url = line[len(LISTENING) :].strip()
            return handle


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubHandle]:
    """A fresh local Hub for one test (users alice and bob)."""
    with embedded_hub(
        data_dir=tmp_path / "hub", users=USERS, build_seconds=TEST_BUILD_SECONDS
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def module_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    """One local Hub shared by a test module (users alice and bob)."""
    folder = tmp_path_factory.mktemp("module-hub")
    with embedded_hub(data_dir=folder, users=USERS, build_seconds=TEST_BUILD_SECONDS) as handle:
        yield handle
