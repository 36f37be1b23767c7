"""testing/engine.py: the podman service lifecycle and the skip/fail policy of the fixtures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from testing.engine import (
    REQUIRE_ENV,
    EngineStartError,
    _ping,
    normalize_ref,
    podman_path,
    start_engine,
    unavailable,
)


def test_unavailable_engine_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker Engine API: gone"):
        unavailable("gone")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"required .* but unavailable: gone"):
        unavailable("gone")


def test_start_without_podman_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineStartError, match="apt-get install -y podman runc"):
        start_engine(tmp_path / "run")


@pytest.mark.docker
def test_service_starts_in_its_run_folder_and_stops_by_pid(tmp_path: Path) -> None:
    if podman_path() is None:
        unavailable("podman is not installed")
    service = start_engine(tmp_path / "run")
    try:
        assert service.socket.parent == (tmp_path / "run").resolve()
        assert _ping(service.socket)
        conf = (service.run_dir / "storage.conf").read_text()
        assert 'driver = "vfs"' in conf
        assert f'graphroot = "{service.run_dir}/root"' in conf
        assert service.env["CONTAINERS_CONF"] == str(service.run_dir / "containers.conf")
    finally:
        service.stop()
    assert service.proc.poll() is not None
    assert not _ping(service.socket)


def test_normalize_ref() -> None:
    assert normalize_ref("docker.io/library/x:1") == "x:1"
    assert normalize_ref("localhost/hubci/x:linux-amd64") == "hubci/x:linux-amd64"
    assert normalize_ref("docker.io/jinahub/abc:v1") == "jinahub/abc:v1"
    assert normalize_ref("ghcr.io/o/x:1") == "ghcr.io/o/x:1"


@pytest.mark.docker
@pytest.mark.parametrize("base", ["python:3.12-slim", "docker.io/library/python:3.12-slim"])
def test_a_missing_base_image_fails_locally(docker_client: Any, tmp_path: Path, base: str) -> None:
    """The engine's registries.conf blocks every public registry and unqualified search: a base
    image it does not hold fails at once, without any lookup leaving the machine."""
    import docker.errors

    (tmp_path / "Dockerfile").write_text(f"FROM {base}\n")
    started = time.monotonic()
    errors: list[str] = []
    try:
        for event in docker_client.api.build(path=str(tmp_path), decode=True, pull=False):
            detail = event.get("errorDetail") or {}
            if detail or "error" in event:
                errors.append(str(detail.get("message") or event.get("error")))
    except docker.errors.DockerException as exc:
        errors.append(str(exc))
    assert time.monotonic() - started < 20
    text = " ".join(errors).lower()
    assert any(why in text for why in ("blocked", "unqualified-search", "short-name")), text


@pytest.mark.docker
def test_the_service_ends_with_the_test_process_even_when_killed(tmp_path: Path) -> None:
    """A run ended by SIGKILL (no fixture finalizer runs) leaves no podman service behind."""
    import os
    import signal
    import subprocess
    import sys

    if podman_path() is None:
        unavailable("podman is not installed")
    code = (
        "import sys, time, pathlib\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from testing.engine import start_engine\n"
        f"svc = start_engine(pathlib.Path({str(tmp_path / 'run')!r}))\n"
        "print(svc.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        service = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(service, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)  # polling for the process to end
    os.kill(service, signal.SIGKILL)
    pytest.fail("the podman service outlived its test process")
