"""Fault injection: parsing the specs, and each fault as a client sees it over HTTP."""

from __future__ import annotations

import logging

import pytest
import requests

from hubci.server.embedded import HubHandle
from hubci.server.faults import Faults, FaultSpecError, parse_fault

from .helpers import executor_zip, lines_of, push, push_raw, query_progress, rpc, tasks, terminal


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("upload-status:503:2", ("upload-status", ("503", "2"))),
        ("upload-reset:1", ("upload-reset", ("1",))),
        ("stream-cut:3", ("stream-cut", ("3",))),
        ("whoami-status:401:1", ("whoami-status", ("401", "1"))),
        ("slow-build:2.5", ("slow-build", ("2.5",))),
        ("fail-build:linux/arm/v7", ("fail-build", ("linux/arm/v7",))),
    ],
)
def test_fault_specs_parse(spec: str, parsed: tuple[str, tuple[str, ...]]) -> None:
    assert parse_fault(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("explode:1", "unknown fault 'explode'"),
        ("upload-status:503", "expected upload-status:CODE:N"),
        ("upload-status:200:1", "CODE must be a whole number from 400 to 599"),
        ("upload-reset:x", "N must be a whole number"),
        ("stream-cut", "expected stream-cut:K"),
        ("slow-build:-1", "SECONDS must be a number"),
        ("fail-build:linux/sparc", "unknown platform 'linux/sparc'"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(FaultSpecError, match="--fault") as info:
        parse_fault(spec)
    assert words in info.value.format_message()


def test_counted_faults_run_out() -> None:
    faults = Faults(["upload-status:503:2", "upload-status:429:1", "upload-reset:1"])
    assert [faults.upload_status() for _ in range(4)] == [503, 503, 429, None]
    assert [faults.upload_reset() for _ in range(2)] == [True, False]
    faults.add("stream-cut:0")
    assert faults.stream_cut("push") == 0
    assert faults.stream_cut("status") == 0
    assert faults.stream_cut("push") is None
    faults.add("fail-build:linux/amd64")
    faults.add("slow-build:1.5")
    assert faults.fail_build("linux/amd64")
    assert not faults.fail_build("linux/arm64")
    assert faults.slow_build() == 1.5
    faults.clear()
    assert not faults.fail_build("linux/amd64")


def test_upload_status_answers_with_retry_after(
    hub: HubHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hubci.server")
    hub.add_fault("upload-status:503:1")
    refused = push_raw(hub.url, executor_zip(), id="Greeter")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == 503
    assert "fault fired: upload-status:503" in caplog.text
    assert terminal(push(hub.url, executor_zip(), id="Greeter"))["type"] == "complete"
    hub.add_fault("upload-status:429:1")
    assert push_raw(hub.url, executor_zip(), id="Greeter").status_code == 429
    assert len(tasks(hub.url, "Greeter")) == 1


def test_upload_reset_drops_the_connection(
    hub: HubHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hubci.server")
    hub.add_fault("upload-reset:1")
    big = executor_zip(**{"data.bin": "x" * 10}) + b""
    with pytest.raises(requests.ConnectionError):
        push_raw(hub.url, big + b"\0" * (4 * 1024 * 1024), id="Greeter").content  # noqa: B018
    assert "fault fired: upload-reset" in caplog.text
    assert tasks(hub.url, "Greeter") == []
    assert not list((hub.data_dir / "work").glob("upload-*"))
    assert terminal(push(hub.url, executor_zip(), id="Greeter"))["type"] == "complete"


def test_stream_cut_closes_both_streams_but_not_the_build(hub: HubHandle) -> None:
    hub.add_fault("stream-cut:2")
    cut = lines_of(push_raw(hub.url, executor_zip(), id="Greeter"))
    assert len(cut) == 2
    assert all(line["type"] not in ("complete", "error") for line in cut)
    task = tasks(hub.url, "Greeter")[0]
    short = lines_of(query_progress(hub.url, task["_id"]))
    assert len(short) == 2
    full = lines_of(query_progress(hub.url, task["_id"]))
    assert full[-1]["status"] == "succeeded"


def test_whoami_status(hub: HubHandle) -> None:
    hub.add_fault("whoami-status:502:2")
    assert [rpc(hub.url, "user.identity.whoami").status_code for _ in range(3)] == [502, 502, 200]
