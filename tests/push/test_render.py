"""Output: redaction, progress lines, the final result and its JSON schema."""

from __future__ import annotations

import io
import json

from hubci.errors import HubError
from hubci.hub.follow import BuildEvent
from hubci.output.redact import Redactor, register
from hubci.push.render import TextReporter, result_text
from hubci.push.result import BundleInfo, ExecutorInfo, PushResult


def test_redactor_masks_plain_and_json_escaped_values() -> None:
    redact = Redactor(['se"cret', "tok-123", "1"])
    assert redact('value tok-123 and se"cret') == "value *** and ***"
    assert redact(json.dumps({"x": 'se"cret'})) == '{"x": "***"}'
    assert redact("1 stays") == "1 stays"  # too short to mask without shredding output


def test_errors_are_redacted_when_shown() -> None:
    register("tok-123")
    err = io.StringIO()
    HubError("bad tok-123", "hint tok-123").show(err)
    assert err.getvalue() == "hubci: error: bad *** (hint ***)\n"


def test_progress_without_tty_is_ten_percent_steps() -> None:
    err = io.StringIO()
    reporter = TextReporter(err=err, tty=False)
    for sent in range(0, 1001, 25):
        reporter.upload_progress(sent, 1000)
    lines = err.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == [f"{p}%" for p in range(0, 101, 10)]


def test_progress_on_a_tty_is_one_bar() -> None:
    err = io.StringIO()
    reporter = TextReporter(err=err, tty=True)
    reporter.upload_progress(512, 1024)
    reporter.upload_progress(1024, 1024)
    assert err.getvalue().count("\r") == 2
    assert err.getvalue().endswith("100% 1.0 KiB/1.0 KiB\n")


def test_console_lines_only_when_verbose_and_redacted() -> None:
    err = io.StringIO()
    register("hunter2")
    quiet = TextReporter(err=err, tty=False)
    quiet.build_event(BuildEvent("console", "buildWorkspace", "pip says hunter2"))
    assert err.getvalue() == ""
    loud = TextReporter(err=err, tty=False, verbose=True)
    loud.build_event(BuildEvent("console", "buildWorkspace", "pip says hunter2"))
    loud.build_event(BuildEvent("stage", "buildWorkspace", "start"))
    assert err.getvalue().splitlines() == ["  | pip says ***", "build: buildWorkspace start"]


def test_result_json_schema() -> None:
    executor = ExecutorInfo.from_payload(
        {
            "id": "abcd1234",
            "name": "Hello",
            "visibility": "public",
            "owner": {"name": "local"},
            "secret": "never-shown",
            "commit": {"tags": ["v1", "latest"]},
        },
        platforms=("linux/amd64",),
    )
    result = PushResult(
        status="succeeded",
        task_id="t1",
        executor=executor,
        bundle=BundleInfo("0" * 32, 10, 2),
        duration_s=1.23456,
    )
    data = result.to_json()
    assert data == {
        "status": "succeeded",
        "task_id": "t1",
        "build_id": None,
        "executor": {
            "id": "abcd1234",
            "name": "Hello",
            "owner": "local",
            "visibility": "public",
            "tags": ["v1", "latest"],
            "platforms": ["linux/amd64"],
            "uri": "jinaai://local/Hello:v1",
            "docker_uri": "jinaai+docker://local/Hello:v1",
        },
        "bundle": {"md5": "0" * 32, "size": 10, "files": 2},
        "duration_s": 1.235,
        "error": None,
    }
    assert "never-shown" not in json.dumps(data) + result_text(result)
    assert result.exit_code == 0


def test_exit_codes_by_status() -> None:
    assert PushResult(status="failed").exit_code == 1
    assert PushResult(status="timeout").exit_code == 4
    assert PushResult(status="submitted").exit_code == 0
    assert PushResult(status="unchanged").exit_code == 0
    assert result_text(PushResult(status="failed", error="the build failed: x")) == (
        "failed: the build failed: x"
    )


def test_a_failed_build_names_its_task_and_how_to_see_its_log() -> None:
    failed = PushResult(status="failed", task_id="t1", error="the build failed: x")
    assert result_text(failed).splitlines() == [
        "failed: the build failed: x",
        "  task:       t1  (its log: `hubci status --id t1 --replay --verbose`)",
    ]
