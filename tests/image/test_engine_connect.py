"""Engine connection, build-stream parsing, the plan and the output (no Engine needed)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubci.errors import EXIT_HUB, EngineUnavailable, UsageError
from hubci.image import builder
from hubci.image.builder import PlatformBuild
from hubci.image.engine import EngineInfo, _display, connect, engine_available, engine_url
from hubci.image.prepare import dockerfile_relpath, parse_build_env, repo_name
from hubci.image.render import BuildReporter
from hubci.image.run import BuildPlan
from hubci.output.sizes import human_size


@pytest.fixture
def dead_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DOCKER_HOST pointing at a unix socket file nobody listens on."""
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the file stays, nothing accepts: connection refused
    url = f"unix://{path}"
    monkeypatch.setenv("DOCKER_HOST", url)
    return url


def test_connect_to_a_dead_socket_is_a_one_line_exit_3(dead_socket: str) -> None:
    with pytest.raises(EngineUnavailable) as info:
        connect(timeout=5)
    assert info.value.exit_code == EXIT_HUB == 3
    text = info.value.format_message()
    assert dead_socket in text
    assert "connection refused" in text
    assert "DOCKER_HOST" in text  # says how to get one
    assert "\n" not in text
    assert engine_available() is False


def test_missing_socket_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nope.sock")
    with pytest.raises(EngineUnavailable, match="the socket does not exist"):
        connect(timeout=5)


def test_default_socket_when_docker_host_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert engine_url() == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "  ")
    assert engine_url() == "unix:///var/run/docker.sock"


def test_credentials_in_docker_host_are_never_shown() -> None:
    assert _display("ssh://alice:hunter22@host.example:22") == "ssh://host.example:22"
    assert _display("tcp://127.0.0.1:2375") == "tcp://127.0.0.1:2375"


def test_cli_without_an_engine_exits_3_without_traceback(
    dead_socket: str, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    result = run_hubci(["build", str(scratch_executor)])
    assert result.code == 3, result.err
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("hubci: error: no Docker Engine API reachable at unix://")
    assert "Traceback" not in result.err


def test_json_without_an_engine_is_still_one_document(
    dead_socket: str, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    result = run_hubci(["build", str(scratch_executor), "--format", "json"])
    assert result.code == 3, result.err
    assert json.loads(result.out) == {"status": "failed", "builds": []}
    assert result.err.strip().splitlines()[-1].startswith("hubci: error: no Docker Engine API")


def test_engine_info_platform_names() -> None:
    assert EngineInfo("u", "1", "linux", "x86_64").platform == "linux/amd64"
    assert EngineInfo("u", "1", "linux", "aarch64").platform == "linux/arm64"
    assert EngineInfo("u", "1", "linux", "arm64").platform == "linux/arm64"


def _events(*items: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from items


def test_stream_lines_join_partial_chunks_and_record_id_and_error() -> None:
    state = builder._StreamState()
    lines = list(
        builder._lines(
            _events(
                {"stream": "STEP 1/2: FROM scr"},
                {"stream": "atch\nSTEP 2/2: COPY a /a\n--> 1234"},
                {"aux": {"ID": "sha256:abc"}},
                {"status": "Pulling", "progress": "[==>  ]"},
                {"errorDetail": {"message": "boom"}, "error": "boom"},
            ),
            state,
        )
    )
    assert lines == ["STEP 1/2: FROM scratch", "STEP 2/2: COPY a /a", "Pulling [==>  ]", "--> 1234"]
    assert state.image_id == "sha256:abc"
    assert state.error == "boom"


def test_failure_names_the_step_and_drops_engine_noise() -> None:
    result = PlatformBuild(platform="linux/amd64")
    state = builder._StreamState(step="STEP 3/4: FOO bar", step_output=["level=error msg=x"])
    error = 'building at STEP "FOO ": Unknown instruction: "FOO" &imagebuilder.Step{Env:[]}'
    builder._fail(result, state, error, "linux/amd64")
    assert (
        result.error
        == 'step 3/4 `FOO bar` failed: building at STEP "FOO ": Unknown instruction: "FOO"'
    )
    assert result.failed_step == "STEP 3/4: FOO bar"
    assert result.step_output[-1] == error


def test_failure_without_emulation_is_reported_as_such() -> None:
    result = PlatformBuild(platform="linux/arm64")
    state = builder._StreamState(
        step="STEP 2/2: RUN make", step_output=["exec /bin/sh: exec format error"]
    )
    builder._fail(result, state, "while running runtime: exit status 1", "linux/arm64")
    assert result.error is not None
    assert result.error.startswith("the Engine cannot build linux/arm64")
    assert "no emulation" in result.error


def test_parse_build_env(monkeypatch: pytest.MonkeyPatch) -> None:
    env = parse_build_env(("A=1", "B=x=y", "C", "A=2"), {"C": "from-env"})
    assert {k: v.reveal() for k, v in env.items()} == {"A": "2", "B": "x=y", "C": "from-env"}
    assert "from-env" not in repr(env)
    with pytest.raises(UsageError, match="not a valid build-env name"):
        parse_build_env(("lower=1",), {})
    with pytest.raises(UsageError, match="environment variable D is not set"):
        parse_build_env(("D",), {})


def test_dockerfile_relpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ex"
    (folder / "docker").mkdir(parents=True)
    (folder / "docker" / "Dockerfile.gpu").write_text("FROM scratch\n")
    (tmp_path / "Outside").write_text("FROM scratch\n")
    assert dockerfile_relpath(folder, None) is None
    assert dockerfile_relpath(folder, "docker/Dockerfile.gpu") == "docker/Dockerfile.gpu"
    monkeypatch.chdir(tmp_path)
    assert dockerfile_relpath(folder, "ex/docker/Dockerfile.gpu") == "docker/Dockerfile.gpu"
    with pytest.raises(UsageError, match="outside the executor folder"):
        dockerfile_relpath(folder, str(tmp_path / "Outside"))
    with pytest.raises(UsageError, match="no such file"):
        dockerfile_relpath(folder, "nope")


def test_repo_name() -> None:
    assert repo_name("MyExecutor") == "myexecutor"
    assert repo_name("My Exec__v2!") == "my-exec-v2"
    assert repo_name("__") == "executor"


def test_plan_rejects_bad_platforms_and_paths(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown platform 'linux/mips'"):
        BuildPlan.from_options(
            tmp_path,
            platform="linux/mips",
            build_env=(),
            dockerfile=None,
            no_cache=False,
            keep=False,
        )
    with pytest.raises(UsageError, match="is not a folder"):
        BuildPlan.from_options(
            tmp_path / "nope",
            platform=None,
            build_env=(),
            dockerfile=None,
            no_cache=False,
            keep=False,
        )
    plan = BuildPlan.from_options(
        tmp_path, platform=None, build_env=(), dockerfile=None, no_cache=False, keep=False
    )
    assert plan.platforms == ("linux/amd64",)


def test_json_output_has_exactly_the_agreed_keys(capsys: pytest.CaptureFixture[str]) -> None:
    builds = [
        PlatformBuild("linux/amd64", "sha256:1", ["hubci/x:linux-amd64"], 10, 1.23456),
        PlatformBuild("linux/arm64", error="step 2/3 `COPY a /a` failed: no such file"),
    ]
    BuildReporter("json", multi=True).result(builds, kept=False)
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"status", "builds"}
    assert document["status"] == "failed"
    assert [set(b) for b in document["builds"]] == [
        {"platform", "image_id", "tags", "size", "duration_s", "error"}
    ] * 2
    assert document["builds"][0]["duration_s"] == 1.235


def test_human_size() -> None:
    assert human_size(None) == "-"
    assert human_size(999) == "999 B"
    assert human_size(712_138) == "695.4 KiB"
    assert human_size(3_200_000_000) == "3.0 GiB"


@pytest.mark.parametrize(
    ("built", "wanted", "same"),
    [
        ("linux/amd64", "linux/amd64", True),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm", "linux/arm/v7", True),
        ("linux/arm/v6", "linux/arm/v7", False),
        ("linux/amd64", "linux/arm64", False),
        ("windows/amd64", "linux/amd64", False),
    ],
)
def test_same_platform(built: str, wanted: str, same: bool) -> None:
    assert builder.same_platform(built, wanted) is same
