"""The unmodified official client (jina-hubble-sdk 0.39.0) against the local Hub with the docker
builder: a real image for a good bundle, "Failed on building Docker image" for a broken one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubci.server.embedded import HubHandle, embedded_hub
from testing.hubble import hubble_python, official_env, run_official

pytestmark = [pytest.mark.slow, pytest.mark.docker]

USER = "official"
TOKEN = "official-token-2c4e6a8b0d"


@pytest.fixture
def hub(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    hubble_python()  # the client's venv, created once per machine
    data = tmp_path_factory.mktemp("hub")
    with embedded_hub(data_dir=data, users={USER: TOKEN}, builder="docker") as handle:
        yield handle


def _push(hub: HubHandle, folder: Path, home: Path, *args: str) -> Any:
    home.mkdir(exist_ok=True)
    env = official_env(hub.url, TOKEN, home)
    return run_official(["push", str(folder), "--public", *args], env=env, cwd=home)


def test_official_push_builds_a_real_image(
    hub: HubHandle, docker_client: Any, scratch_executor: Path, tmp_path: Path
) -> None:
    done = _push(hub, scratch_executor, tmp_path / "home", "-t", "v1")
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r"https://cloud\.jina\.ai/executor/([a-z0-9]{8})/", done.stdout)
    assert found, done.stdout
    image = docker_client.images.get(f"jinahub/{found.group(1)}:v1")
    try:
        assert image.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
    finally:
        docker_client.images.remove(image.id, force=True)


def test_official_push_of_a_broken_dockerfile_fails_the_build(
    hub: HubHandle, make_executor: Callable[..., Path], tmp_path: Path
) -> None:
    folder = make_executor(tmp_path / "ex", "FROM scratch\nCOPY nowhere.txt /n\n")
    done = _push(hub, folder, tmp_path / "home")
    assert done.returncode != 0
    assert "Failed on building Docker image" in done.stderr, done.stderr[-2000:]
