"""The local Hub with ``--builder docker``: a pushed bundle becomes a real image in the Engine."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubci.secret import Secret
from hubci.server.builders import BuildJob, get_builder
from hubci.server.embedded import HubHandle, embedded_hub
from testing.engine import normalize_ref

USER = "builder"
TOKEN = "builder-token-5f4e3d2c1b"
SECRET = "hub-secret-0a9b8c7d"


@pytest.fixture
def docker_hub(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    data = tmp_path_factory.mktemp("hub")
    with embedded_hub(data_dir=data, users={USER: TOKEN}, builder="docker") as handle:
        yield handle


def _push(run_hubci: Callable[[list[str]], Any], hub: HubHandle, folder: Path, *extra: str) -> Any:
    args = ["push", str(folder), "--hub-url", hub.url, "--token", TOKEN, "--format", "json"]
    return run_hubci([*args, *extra])


@pytest.mark.docker
def test_pushed_bundle_becomes_real_images_named_like_the_hub(
    docker_hub: HubHandle,
    docker_client: Any,
    scratch_executor: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    result = _push(
        run_hubci, docker_hub, scratch_executor, "-t", "v1", "--platform", "linux/amd64,linux/arm64"
    )
    assert result.code == 0, result.err
    executor_id = json.loads(result.out)["executor"]["id"]
    repo = f"jinahub/{executor_id}"
    images: list[Any] = []
    try:
        plain = docker_client.images.get(f"{repo}:v1")
        amd64 = docker_client.images.get(f"{repo}:v1-linux-amd64")
        arm64 = docker_client.images.get(f"{repo}:v1-linux-arm64")
        images = [amd64, arm64]
        assert plain.id == amd64.id  # the plain tag is the Engine's native platform
        assert amd64.attrs["Architecture"] == "amd64"
        assert arm64.attrs["Architecture"] == "arm64"
        assert amd64.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
        tags = {normalize_ref(t) for t in amd64.tags}
        assert f"{repo}:v1" in tags
    finally:
        for image in images:
            docker_client.images.remove(image.id, force=True)


@pytest.mark.docker
def test_failed_docker_build_is_the_hubs_docker_build_error(
    docker_hub: HubHandle,
    make_executor: Callable[..., Path],
    tmp_path: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    folder = make_executor(tmp_path / "ex", "FROM scratch\nCOPY absent.bin /absent.bin\n")
    result = _push(run_hubci, docker_hub, folder)
    assert result.code == 1, result.err
    document = json.loads(result.out)
    assert document["status"] == "failed"
    assert "docker build exited with code 1" in document["error"]
    assert "step 2/2 `COPY absent.bin /absent.bin` failed" in document["error"]


def _job(folder: Path, platform: str, **changes: Any) -> BuildJob:
    fields: dict[str, Any] = {
        "folder": folder,
        "dockerfile": "Dockerfile",
        "platform": platform,
        "build_env": {},
        "no_cache": False,
        "image": "jinahub/testjob1",
        "tags": ("v2",),
    }
    fields.update(changes)
    return BuildJob(**fields)


@pytest.mark.docker
def test_builder_streams_console_lines_and_masks_build_envs(
    docker_host: str,
    docker_client: Any,
    make_executor: Callable[..., Path],
    tmp_path: Path,
    static_binary: Path,
) -> None:
    folder = make_executor(
        tmp_path / "ex",
        'FROM scratch\nARG HUB_KEY\nCOPY catatonit /c\nRUN ["/c", "--version"]\n',
    )
    (folder / "catatonit").write_bytes(static_binary.read_bytes())
    (folder / "catatonit").chmod(0o755)
    builder = get_builder("docker")
    lines: list[str] = []
    job = _job(folder, "linux/amd64", build_env={"HUB_KEY": Secret(SECRET)})
    outcome = builder.build(job, lines.append)
    try:
        assert outcome.ok, outcome.error
        assert outcome.image_id is not None
        assert "STEP 1/4: FROM scratch" in lines
        assert all("\n" not in line for line in lines)
        image = docker_client.images.get("jinahub/testjob1:v2")
        assert image.id == outcome.image_id
        assert SECRET not in json.dumps([image.attrs, image.history(), lines])
    finally:
        if outcome.image_id:
            docker_client.images.remove(outcome.image_id, force=True)


def test_builder_without_an_engine_fails_the_job_not_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch_executor: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    lines: list[str] = []
    outcome = get_builder("docker").build(_job(scratch_executor, "linux/amd64"), lines.append)
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("docker build exited with code 1: no Docker Engine API")
    assert lines[-1].startswith("ERROR: no Docker Engine API reachable")


def test_builder_honours_injected_failures_and_cancel(scratch_executor: Path) -> None:
    builder = get_builder("docker")
    outcome = builder.build(_job(scratch_executor, "linux/arm64", inject_failure=True), print)
    assert not outcome.ok
    assert outcome.error == "docker build exited with code 1: simulated failure"
    cancel = threading.Event()
    cancel.set()
    outcome = builder.build(_job(scratch_executor, "linux/amd64", cancel=cancel), print)
    assert not outcome.ok
    assert outcome.error is not None
    assert "cancelled" in outcome.error


@pytest.mark.docker
def test_hub_serve_process_with_docker_builder(
    docker_host: str,
    docker_client: Any,
    scratch_executor: Path,
    tmp_path: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    """``hubci hub serve --builder docker`` as its own process: the image is in the Engine."""
    from testing.hub import start_hub_process

    hub = start_hub_process(tmp_path / "hub", users={USER: TOKEN}, args=["--builder", "docker"])
    try:
        args = ["push", str(scratch_executor), "--hub-url", hub.url, "--token", TOKEN]
        result = run_hubci([*args, "-t", "v3", "--format", "json"])
        assert result.code == 0, result.err
    finally:
        hub.stop()
    executor_id = json.loads(result.out)["executor"]["id"]
    inspect = docker_client.api.inspect_image(f"jinahub/{executor_id}:v3")
    try:
        assert inspect["Architecture"] == "amd64"
        assert inspect["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
    finally:
        docker_client.images.remove(inspect["Id"], force=True)


@pytest.mark.docker
def test_the_same_push_again_tags_the_earlier_images_by_id(
    docker_hub: HubHandle,
    docker_client: Any,
    scratch_executor: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    """A re-push of the same bundle builds nothing: the earlier build's image (by id, since its
    own tags may have moved since) gets the new tags; once it is gone, the Hub builds again."""
    first = _push(run_hubci, docker_hub, scratch_executor, "-t", "v1")
    assert first.code == 0, first.err
    repo = f"jinahub/{json.loads(first.out)['executor']['id']}"
    built = docker_client.images.get(f"{repo}:v1-linux-amd64")
    try:
        again = _push(run_hubci, docker_hub, scratch_executor, "-t", "v2", "--force-build")
        assert again.code == 0, again.err
        assert "reusing build" in again.err
        assert docker_client.images.get(f"{repo}:v2-linux-amd64").id == built.id
        assert docker_client.images.get(f"{repo}:v2").id == built.id
        docker_client.images.remove(built.id, force=True)
        rebuilt = _push(run_hubci, docker_hub, scratch_executor, "-t", "v3", "--force-build")
        assert rebuilt.code == 0, rebuilt.err
        assert "cannot reuse build " in rebuilt.err
        assert "(its images are gone): building again" in rebuilt.err
        assert docker_client.images.get(f"{repo}:v3-linux-amd64") is not None
    finally:
        for image in docker_client.images.list(name=repo):
            docker_client.images.remove(image.id, force=True)
