"""The builder against a real Engine API (podman): FROM-scratch builds per platform, failures with
the failing step, and build envs kept out of logs, history and image configuration."""

from __future__ import annotations

import io
import json
import logging
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubci.image.builder import BuildSpec, PlatformBuild, build_platform, remove_images
from hubci.image.engine import EngineInfo, connect
from hubci.secret import Secret
from testing.engine import normalize_ref

pytestmark = pytest.mark.docker

SECRET = "tok-9f8e7d6c5b4a"


@pytest.fixture
def engine(docker_host: str) -> Iterator[tuple[Any, EngineInfo]]:
    client, info = connect()
    try:
        yield client, info
    finally:
        client.close()


def _read_file(client: Any, image_id: str, path: str) -> bytes:
    """A file's content from an image, without running it (create, copy out, remove)."""
    container = client.containers.create(image_id, command=["/none"], network_mode="none")
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            data = tar.extractfile(member)
            assert data is not None
            return data.read()
    finally:
        container.remove(force=True)


def _build(
    engine: tuple[Any, EngineInfo], spec: BuildSpec, platform: str, tag: str
) -> tuple[PlatformBuild, list[str]]:
    client, info = engine
    seen: list[str] = []
    result = build_platform(client, info, spec, platform, tags=[tag], log=seen.append)
    return result, seen


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_scratch_executor_builds_for_each_platform(
    engine: tuple[Any, EngineInfo], scratch_executor: Path, platform: str
) -> None:
    client, info = engine
    tag = f"hubci-test/scratch:{platform.replace('/', '-')}"
    spec = BuildSpec(context=scratch_executor, build_env={"GREETING": Secret("hi")})
    result, seen = _build(engine, spec, platform, tag)
    try:
        assert result.ok, result.error
        assert result.image_id is not None
        assert result.image_id.startswith("sha256:")
        assert result.tags == [tag]
        assert result.size is not None
        assert result.size > 0
        assert result.duration_s > 0
        assert result.no_cache_forced is (platform != info.platform)
        assert any(line.startswith("STEP 1/7: FROM scratch") for line in seen)
        assert seen == result.log
        image = client.images.get(result.image_id)
        assert image.attrs["Os"] == "linux"
        assert image.attrs["Architecture"] == platform.split("/")[1]
        assert tag in [normalize_ref(t) for t in image.tags]
        config = image.attrs["Config"]
        assert config["Labels"]["org.example.kind"] == "scratch-executor"
        assert "APP_HOME=/workspace" in config["Env"]
        assert config["Entrypoint"] == ["jina", "executor", "--uses", "config.yml"]
        payload = _read_file(client, result.image_id, "/workspace/data/payload.txt")
        assert payload == b"payload\n"
    finally:
        remove_images(client, [result])


def test_missing_copy_source_fails_at_that_step(
    engine: tuple[Any, EngineInfo], make_executor: Callable[..., Path], tmp_path: Path
) -> None:
    folder = make_executor(
        tmp_path / "ex",
        "FROM scratch\nLABEL a=b\nCOPY config.yml /c.yml\nCOPY missing.txt /m.txt\nENV X=1\n",
    )
    result, _ = _build(engine, BuildSpec(context=folder), "linux/amd64", "hubci-test/missing:1")
    assert not result.ok
    assert result.image_id is None
    assert result.failed_step == "STEP 4/5: COPY missing.txt /m.txt"
    assert result.error is not None
    assert result.error.startswith("step 4/5 `COPY missing.txt /m.txt` failed:")
    assert "missing.txt" in result.error
    assert "no such file or directory" in result.step_output[-1]


def test_unknown_instruction_fails_at_that_step(
    engine: tuple[Any, EngineInfo], make_executor: Callable[..., Path], tmp_path: Path
) -> None:
    folder = make_executor(tmp_path / "ex", "FROM scratch\nLABEL a=b\nCOPYY a /a\nENV X=1\n")
    result, _ = _build(engine, BuildSpec(context=folder), "linux/amd64", "hubci-test/bad:1")
    assert not result.ok
    assert result.failed_step == "STEP 3/4: COPYY a /a"
    assert result.error is not None
    assert result.error.startswith("step 3/4 `COPYY a /a` failed:")
    assert 'Unknown instruction: "COPYY"' in result.error
    assert "imagebuilder.Step" not in result.error


def test_an_image_that_cannot_be_pulled_is_a_clear_failure(
    engine: tuple[Any, EngineInfo], make_executor: Callable[..., Path], tmp_path: Path
) -> None:
    folder = make_executor(tmp_path / "ex", "FROM jinaai/jina:3-py38-perf\nCOPY . /workspace\n")
    result, _ = _build(engine, BuildSpec(context=folder), "linux/amd64", "hubci-test/pull:1")
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("step 1/2 `FROM jinaai/jina:3-py38-perf` failed:")


def test_build_env_reaches_run_but_not_history_config_or_log(
    engine: tuple[Any, EngineInfo],
    make_executor: Callable[..., Path],
    tmp_path: Path,
    static_binary: Path,
) -> None:
    client, _ = engine
    dockerfile = (
        "FROM scratch\n"
        "ARG HUB_TOKEN\n"
        "ARG PIP_INDEX=https://example.invalid/simple\n"
        "COPY catatonit /bin/catatonit\n"
        "LABEL org.example.stage=build\n"
        'RUN ["/bin/catatonit", "--version"]\n'
        "ENV MODE=prod\n"
    )
    folder = make_executor(tmp_path / "ex", dockerfile)
    (folder / "catatonit").write_bytes(static_binary.read_bytes())
    (folder / "catatonit").chmod(0o755)
    spec = BuildSpec(
        context=folder, build_env={"HUB_TOKEN": Secret(SECRET), "PIP_INDEX": Secret(SECRET[::-1])}
    )
    result, seen = _build(engine, spec, "linux/amd64", "hubci-test/secret:1")
    try:
        assert result.ok, result.error
        assert result.history_redacted
        assert result.image_id is not None
        history = client.images.get(result.image_id).history()
        created = [h["CreatedBy"] for h in history]
        assert any(c.startswith("|2 HUB_TOKEN=*** PIP_INDEX=*** ") for c in created), created
        image = client.images.get("hubci-test/secret:1")
        assert image.id == result.image_id
        everything = json.dumps([image.attrs, history, seen, result.log])
        assert SECRET not in everything
        assert SECRET[::-1] not in everything
        # the layers are the build's own: the file the RUN step could see is still there
        assert _read_file(client, result.image_id, "/bin/catatonit") == static_binary.read_bytes()
        # no image in the Engine keeps the value in its history (the original was dropped)
        for other in client.images.list(all=True):
            assert SECRET not in json.dumps(other.history())
    finally:
        remove_images(client, [result])


def test_a_build_env_baked_into_env_or_label_is_refused(
    engine: tuple[Any, EngineInfo], make_executor: Callable[..., Path], tmp_path: Path
) -> None:
    client, _ = engine
    folder = make_executor(
        tmp_path / "ex", "FROM scratch\nARG HUB_TOKEN\nLABEL org.example.token=$HUB_TOKEN\n"
    )
    spec = BuildSpec(context=folder, build_env={"HUB_TOKEN": Secret(SECRET)})
    result, seen = _build(engine, spec, "linux/amd64", "hubci-test/baked:1")
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith(
        "build env HUB_TOKEN is baked into the image label org.example.token"
    )
    assert SECRET not in result.error + "\n".join(seen)
    assert not [i for i in client.images.list() if "hubci-test/baked:1" in str(i.tags)]


def test_cancel_stops_following_the_build(
    engine: tuple[Any, EngineInfo], scratch_executor: Path
) -> None:
    client, info = engine
    cancel = threading.Event()
    cancel.set()
    result = build_platform(
        client, info, BuildSpec(context=scratch_executor), "linux/amd64", cancel=cancel
    )
    assert not result.ok
    assert result.error is not None
    assert "cancelled" in result.error


def test_remove_images_removes_what_was_built(
    engine: tuple[Any, EngineInfo], scratch_executor: Path
) -> None:
    import docker.errors

    client, _ = engine
    result, _ = _build(
        engine, BuildSpec(context=scratch_executor), "linux/amd64", "hubci-test/rm:1"
    )
    assert result.ok
    assert result.image_id is not None
    assert remove_images(client, [result, PlatformBuild("linux/arm64")]) == []
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(result.image_id)
    assert remove_images(client, [result]) == []  # already gone: not an error


def test_build_args_never_reach_debug_logs(
    engine: tuple[Any, EngineInfo],
    scratch_executor: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SDK sends build args in the request URL; urllib3 would log it at DEBUG level."""
    client, _ = engine
    spec = BuildSpec(context=scratch_executor, build_env={"GREETING": Secret(SECRET)})
    with caplog.at_level(logging.DEBUG):
        result, _ = _build(engine, spec, "linux/amd64", "hubci-test/debug:1")
    try:
        assert result.ok, result.error
        assert any("urllib3" in r.name for r in caplog.records)  # debug logging was on
        assert SECRET not in caplog.text
        assert "GREETING" not in caplog.text
    finally:
        remove_images(client, [result])


def test_an_image_that_cannot_be_finished_is_removed(
    engine: tuple[Any, EngineInfo], scratch_executor: Path
) -> None:
    """Tagging fails after the build: the result is a failure and no image is left behind."""
    client, info = engine
    tags = ["hubci-test/finish:1", "Not A Valid Reference:1"]
    result = build_platform(
        client, info, BuildSpec(context=scratch_executor), "linux/amd64", tags=tags
    )
    assert not result.ok
    assert result.image_id is None
    assert result.error is not None
    assert result.error.startswith("the image was built but could not be finished")
    assert not [i for i in client.images.list() if "hubci-test/finish:1" in str(i.tags)]
