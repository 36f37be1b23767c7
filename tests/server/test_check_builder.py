"""The check builder: docker-like verdicts on a normalized folder, without Docker."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hubci.errors import ConfigError
from hubci.secret import Secret
from hubci.server.builders import BuildJob, BuildOutcome, get_builder
from hubci.server.builders.check import CheckBuilder

from .helpers import write


def build(
    folder: Path,
    *,
    env: dict[str, str] | None = None,
    fail: bool = False,
    dockerfile: str = "Dockerfile",
) -> tuple[BuildOutcome, list[str]]:
    lines: list[str] = []
    job = BuildJob(
        folder=folder,
        dockerfile=dockerfile,
        platform="linux/arm64",
        build_env={k: Secret(v) for k, v in (env or {}).items()},
        no_cache=False,
        image="jinahub/abcd1234",
        tags=("v1", "latest"),
        inject_failure=fail,
    )
    outcome = CheckBuilder(build_seconds=0).build(job, lines.append)
    return outcome, lines


DOCKERFILE = (
    "# syntax=docker/dockerfile:1\nARG BASE=python:3.11\nFROM ${BASE}\nARG TOKEN\n"
    "COPY requirements.txt /w/\nRUN pip install -r /w/requirements.txt \\\n    && echo $TOKEN\n"
    'ENTRYPOINT ["jina", "executor", "--uses", "config.yml"]\n'
)


def test_a_good_build_plays_out_like_docker(tmp_path: Path) -> None:
    folder = write(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "x==${TOKEN}\n"})
    outcome, lines = build(folder, env={"TOKEN": "value-never-shown"})
    assert outcome.ok
    assert outcome.image_id is not None
    assert outcome.image_id.startswith("sha256:")
    assert lines[0] == "Sending build context to Docker daemon for linux/arm64"
    steps = [line for line in lines if line.startswith("Step ")]
    assert steps[0] == "Step 1/6 : ARG BASE=python:3.11"
    assert steps[-1].startswith("Step 6/6 : ENTRYPOINT")
    assert lines[-2:] == [
        "Successfully tagged jinahub/abcd1234:v1",
        "Successfully tagged jinahub/abcd1234:latest",
    ]
    assert "value-never-shown" not in "\n".join(lines)
    again, _ = build(folder, env={"TOKEN": "other"})
    assert again.image_id == outcome.image_id  # same inputs, same image


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({}, "failed to read dockerfile"),
        ({"Dockerfile": ""}, "the Dockerfile (Dockerfile) cannot be empty"),
        ({"Dockerfile": "RUN x\nFROM a\n"}, "FROM must come first (line 1: RUN)"),
        ({"Dockerfile": "FROM a\nNOPE x\n"}, "dockerfile parse error on line 2"),
        (
            {"Dockerfile": "FROM a\nCOPY nothing.txt /\n"},
            "file not found in build context: nothing.txt",
        ),
        ({"Dockerfile": "FROM a\nCOPY *.whl /\n"}, "*.whl"),
        (
            {"Dockerfile": "FROM a\nCOPY ../outside.txt /\n"},
            "forbidden path outside the build context: ../outside.txt",
        ),
        (
            {
                "Dockerfile": "FROM a\nRUN pip install -r requirements.txt\n",
                "requirements.txt": "x==${V}\n",
            },
            "no build env V was given",
        ),
    ],
)
def test_problems_fail_like_docker(tmp_path: Path, files: dict[str, str], words: str) -> None:
    outcome, lines = build(write(tmp_path, files))
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("docker build exited with code 1")
    assert words in outcome.error
    assert lines[-1].startswith("ERROR: ")


def test_used_build_envs_must_be_declared(tmp_path: Path) -> None:
    folder = write(tmp_path, {"Dockerfile": "FROM a\nRUN echo ${SECRET_X}\n"})
    outcome, _ = build(folder, env={"SECRET_X": "v"})
    assert outcome.error is not None
    assert "does not declare `ARG SECRET_X`" in outcome.error
    ok, _ = build(folder)  # not a build env: just a shell variable
    assert ok.ok


def test_copy_from_a_stage_and_urls_are_not_looked_up(tmp_path: Path) -> None:
    text = (
        "FROM a AS base\nFROM b\nCOPY --from=base /x /y\nADD https://e.org/f /f\n"
        'COPY ["a file.txt", "/w/"]\n'
    )
    outcome, _ = build(write(tmp_path, {"Dockerfile": text, "a file.txt": "x"}))
    assert outcome.ok


def test_injected_failure_stops_at_the_first_run(tmp_path: Path) -> None:
    folder = write(tmp_path, {"Dockerfile": DOCKERFILE, "requirements.txt": "x\n"})
    outcome, lines = build(folder, env={"TOKEN": "t"}, fail=True)
    assert not outcome.ok
    assert outcome.error is not None
    assert "The command '/bin/sh -c pip install -r /w/requirements.txt" in outcome.error
    assert lines[-1] == "/bin/sh: 1: simulated failure for linux/arm64 (fault fail-build)"
    assert not any("Successfully built" in line for line in lines)


def test_a_cancelled_build_gives_up(tmp_path: Path) -> None:
    folder = write(tmp_path, {"Dockerfile": "FROM a\n"})
    cancel = threading.Event()
    cancel.set()
    job = BuildJob(
        folder=folder,
        dockerfile="Dockerfile",
        platform="linux/amd64",
        build_env={},
        no_cache=True,
        image="jinahub/x",
        tags=("latest",),
        cancel=cancel,
    )
    outcome = CheckBuilder(build_seconds=3600).build(job, lambda _line: None)
    assert not outcome.ok
    assert outcome.error is not None
    assert "cancelled" in outcome.error


def test_get_builder() -> None:
    assert isinstance(get_builder("check", build_seconds=0), CheckBuilder)
    with pytest.raises(ConfigError, match="unknown builder 'kaniko'"):
        get_builder("kaniko")
