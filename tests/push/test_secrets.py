"""A sentinel planted in the token, the executor secret and a build-env value appears in no
output at all: text, JSON, --verbose, --debug, dry runs, failures and errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle, embedded_hub
from tests.push.conftest import EXAMPLE, Cli

MARK = "SNTL7Q"
SENTINEL_TOKEN = f"{MARK}-token-0f9e8d7c"
SENTINEL_SECRET = f"{MARK}-secret-1a2b3c"
SENTINEL_VALUE = f"{MARK}-value-=x"


@pytest.fixture
def sentinel_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    data = tmp_path_factory.mktemp("hub")
    with embedded_hub(data_dir=data, users={"bob": SENTINEL_TOKEN}, build_seconds=0.01) as hub:
        yield hub


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(EXAMPLE, dest)
    req = dest / "requirements.txt"
    req.write_text(req.read_text() + "docarray>=0.39 # pinned by ${SNTL_ENV}\n")
    return dest


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sentinel_hub: HubHandle) -> None:
    monkeypatch.setenv("JINA_AUTH_TOKEN", SENTINEL_TOKEN)
    monkeypatch.setenv("HUBCI_SECRET", SENTINEL_SECRET)
    monkeypatch.setenv("SNTL_ENV", SENTINEL_VALUE)
    monkeypatch.setenv("JINA_HUBBLE_REGISTRY", sentinel_hub.url)


SCENARIOS = [
    ["--verbose"],
    ["--format", "json", "--verbose"],
    ["--dry-run", "--verbose"],
    ["--dry-run", "--format", "json", "--verbose"],
    ["--build-env", f"SNTL_ENV={SENTINEL_VALUE}", "--verbose"],
    ["--force-update", "HelloExecutor", "--verbose"],
    ["--force-update", "HelloExecutor", "--secret", SENTINEL_SECRET, "--format", "json"],
    ["--token", SENTINEL_TOKEN, "--verbose", "--platform", "linux/arm64"],
]


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("extra", SCENARIOS)
@pytest.mark.parametrize("debug", [False, True])
def test_no_secret_in_any_output(
    cli: Cli, folder: Path, sentinel_hub: HubHandle, extra: list[str], debug: bool
) -> None:
    first = cli("push", str(folder), "--build-env", "SNTL_ENV")
    assert first.code == 0, first.err
    args = ["--debug"] if debug else []
    if "--build-env" not in extra:
        extra = [*extra, "--build-env", "SNTL_ENV"]
    run = cli(*args, "push", str(folder), *extra)
    assert run.code == 0, run.err
    assert MARK not in run.out + run.err + first.out + first.err


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    "fault", ["fail-build:linux/arm64", "whoami-status:401:1", "upload-status:400:1"]
)
def test_no_secret_in_failures(cli: Cli, folder: Path, sentinel_hub: HubHandle, fault: str) -> None:
    sentinel_hub.add_fault(fault)
    for fmt in ("text", "json"):
        run = cli(
            "--debug", "push", str(folder), "--build-env", "SNTL_ENV", "--platform",
            "linux/arm64", "--verbose", "--format", fmt,
        )  # fmt: skip
        assert run.code in (1, 3)
        assert MARK not in run.out + run.err
        sentinel_hub.add_fault(fault)


@pytest.mark.usefixtures("env")
def test_no_secret_in_usage_errors(cli: Cli, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hubci.hub.retry.default_sleep", lambda _seconds: None)
    runs = [
        cli("push", str(folder), "--build-env", f"bad-name={SENTINEL_VALUE}"),
        cli("push", str(folder), "--secret", SENTINEL_SECRET),
        cli("push", str(folder)),  # ${SNTL_ENV} needs --build-env: a validation error
        cli("push", str(folder), "--build-env", "SNTL_ENV", "--hub-url", "http://127.0.0.1:9",
            "--timeout", "1"),
    ]  # fmt: skip
    assert [r.code for r in runs[:3]] == [2, 2, 2]
    for run in runs:
        assert MARK not in run.out + run.err


@pytest.mark.usefixtures("env")
def test_no_secret_in_status(cli: Cli, folder: Path) -> None:
    pushed = cli("push", str(folder), "--build-env", "SNTL_ENV", "--no-wait")
    assert pushed.code == 0, pushed.err
    runs = [
        cli("--debug", "status", str(folder), "--replay", "--verbose"),
        cli("--debug", "status", str(folder), "--format", "json", "--verbose"),
        cli("--debug", "status", "--id", "0" * 24, "--format", "json"),  # the Hub's 404
        cli("status", str(folder), "--token", f"{MARK}-wrong", "--format", "json"),  # 401
    ]
    assert [r.code for r in runs] == [0, 0, 3, 3]
    for run in runs:
        assert MARK not in run.out + run.err
