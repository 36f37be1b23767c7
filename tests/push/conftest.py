"""Fixtures for push/status tests: an embedded local Hub with a known user, executor copies,
and a way to run the real CLI entry point in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle, embedded_hub

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-executor"
USER = "alice"
TOKEN = "alice-token-0123456789"


@pytest.fixture
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    data = tmp_path_factory.mktemp("hub")
    with embedded_hub(data_dir=data, users={USER: TOKEN}, build_seconds=0.05) as handle:
        yield handle


@pytest.fixture
def executor(tmp_path: Path) -> Path:
    dest = tmp_path / "hello-executor"
    shutil.copytree(EXAMPLE, dest)
    return dest


@dataclass
class Run:
    code: int
    out: str
    err: str


Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``hubci ARGS`` through hubci.cli.main (error rendering and exit codes included)."""
    from hubci.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = -1
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def spawn_hubci(*args: str, token: str = TOKEN) -> subprocess.Popen[str]:
    """``python -m hubci ARGS`` as a real process (for signals), its token in the environment."""
    env = {**os.environ, "JINA_AUTH_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "hubci", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_stderr_until(proc: subprocess.Popen[str], prefix: str, seconds: float = 60) -> list[str]:
    """stderr lines up to and including the first that starts with ``prefix``; fails the test
    if the process ends or ``seconds`` pass first."""
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return seen
    pytest.fail(f"no stderr line starting with {prefix!r}; got {seen}")


def stop(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
