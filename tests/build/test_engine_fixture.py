"""testing/engine.py: the podman service lifecycle and the skip/fail policy of the fixtures."""

from __future__ import annotations

from pathlib import Path

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
