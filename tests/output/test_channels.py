"""Every output channel, fed hostile text: no workflow command but hubci's own, no extra output,
no markdown break-out, no visible secret.

The text stands for what a fork's pull request, a Hub or a build controls: build log lines, Hub
error bodies and stream events, file names, tag names and git refs, finding messages.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from hubci.action.summary import ExecutorRow, RunSummary, render
from hubci.errors import HubciError
from hubci.findings import ExecutorReport, Finding, Severity
from hubci.hub.errors import error_for_status
from hubci.hub.follow import BuildEvent, FollowState, read_push_stream
from hubci.output import commands
from hubci.output.console import Console, reset_annotation_counts
from hubci.output.redact import register, reset
from hubci.push.render import TextReporter
from hubci.push.result import ExecutorInfo, PushResult
from hubci.validate.report import render_github, render_text
from testing.hostile_text import SECRETS, hostile_text
from testing.runner import assert_only
from testing.runner import commands as runner_commands

EXAMPLES = 300
SETTINGS = settings(
    max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
GFM = MarkdownIt("commonmark").enable("table")
#: How a secret could still be recognised: each one, and each word of the spaced one.
VISIBLE = (*tuple(SECRETS), "pa55  w0rd", "pa55\nw0rd")


def fresh() -> None:
    reset()
    reset_annotation_counts()
    for secret in SECRETS:
        register(secret)


def assert_no_secret(text: str) -> None:
    flat = " ".join(text.split())
    for secret in VISIBLE:
        assert secret not in text, (secret, text)
        assert " ".join(secret.split()) not in flat, (secret, text)


@SETTINGS
@given(hostile_text())
def test_console_text(value: str) -> None:
    fresh()
    out, err = io.StringIO(), io.StringIO()
    console = Console(stdout=out, stderr=err)
    console.out(value)
    console.err(value)
    console.line(f"prefix {value}", err=True)
    for written in (out.getvalue(), err.getvalue()):
        assert_only(written, [])
        assert_no_secret(written)


@SETTINGS
@given(hostile_text(), hostile_text(4), hostile_text(4), st.sampled_from(commands.LEVELS))
def test_annotations(message: str, file: str, title: str, level: commands.AnnotationLevel) -> None:
    fresh()
    out = io.StringIO()
    console = Console(stdout=out)
    console.annotation(level, message, file=file or None, line=3, title=title or None)
    console.group(title)
    console.endgroup()
    assert_only(out.getvalue(), [level, "group", "endgroup"])
    assert_no_secret(out.getvalue())


def test_annotations_past_the_limit_are_inert_lines() -> None:
    fresh()
    out = io.StringIO()
    console = Console(stdout=out)
    for n in range(12):
        console.annotation("error", f"m{n}", file=f"::set-output name=x::{n}.key", line=1)
    found = assert_only(out.getvalue(), ["error"] * commands.ANNOTATIONS_PER_LEVEL)
    assert len(found) == 10
    assert "m11" in out.getvalue()


@SETTINGS
@given(st.lists(st.tuples(hostile_text(), hostile_text(4)), min_size=1, max_size=14))
def test_validate_reports(findings: list[tuple[str, str]]) -> None:
    fresh()
    report = ExecutorReport(
        "exec",
        "X",
        findings=[
            Finding("HUB999", "secret", Severity.ERROR, message, file=file or None, line=1)
            for message, file in findings
        ],
    )
    out = io.StringIO()
    Console(stdout=out).emit(render_github([report], workspace=None))
    Console(stdout=out).out(render_text([report]))
    shown = min(len(findings), commands.ANNOTATIONS_PER_LEVEL)
    assert_only(out.getvalue(), ["error"] * shown)
    assert_no_secret(out.getvalue())


@SETTINGS
@given(st.lists(st.tuples(hostile_text(4), hostile_text()), max_size=6))
def test_build_events_and_stream_lines(lines: list[tuple[str, str]]) -> None:
    fresh()
    err = io.StringIO()
    reporter = TextReporter(err=err, tty=False, verbose=True)
    stream: list[dict[str, object]] = [
        {"type": "console", "subject": s, "payload": p} for s, p in lines
    ]
    stream += [{"type": "warning", "subject": s, "message": p} for s, p in lines]
    stream += [{"type": "start", "subject": s, "message": p} for (s, p) in lines]
    stream.append({"type": "error", "payload": {"readableMessage": "".join(p for _, p in lines)}})
    terminal = read_push_stream(stream, FollowState(), reporter.build_event)
    assert terminal is not None
    assert terminal.error is not None
    reporter.line(f"failed: {terminal.error}")
    reporter.build_event(BuildEvent("status", "task", "".join(p for _, p in lines)))
    assert_only(err.getvalue(), [])
    assert_no_secret(err.getvalue())


@SETTINGS
@given(hostile_text(), st.sampled_from([400, 401, 403, 404, 413, 422, 500]))
def test_hub_error_bodies(message: str, status: int) -> None:
    fresh()
    error = error_for_status(status, {"readableMessage": message}, "executor.push", "sid")
    assert isinstance(error, HubciError)
    err = io.StringIO()
    error.show(err)
    assert_only(err.getvalue(), [])
    assert_no_secret(err.getvalue())
    assert len(err.getvalue().splitlines()) == 1


@SETTINGS
@given(st.dictionaries(hostile_text(3), hostile_text(), max_size=4), hostile_text())
def test_json_documents(document: dict[str, str], error: str) -> None:
    fresh()
    out = io.StringIO()
    Console(stdout=out).json({"error": error, "extra": document})
    Console(stdout=out).json(document, indent=2)
    text = out.getvalue()
    assert_only(text, [])
    assert_no_secret(text)
    first = text[: text.index("\n")]
    assert json.loads(first)["error"].replace("***", "") == json.loads(first)["error"].replace(
        "***", ""
    )


def _parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: name=value lines and name<<DELIMITER blocks."""
    result: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            result[name] = "\n".join(value)
        else:
            name, _, value_text = line.partition("=")
            result[name] = value_text
    return result


@SETTINGS
@given(st.dictionaries(st.sampled_from(["uri", "name", "tags", "status"]), hostile_text()))
def test_outputs_file(tmp_path_factory: pytest.TempPathFactory, outputs: dict[str, str]) -> None:
    fresh()
    path = tmp_path_factory.mktemp("out") / "output"
    commands.write_outputs(path, outputs)
    parsed = _parse_output_file(path.read_text(encoding="utf-8"))
    assert set(parsed) == set(outputs)  # no extra output, none lost
    assert_no_secret(path.read_text(encoding="utf-8"))


def _summary(error: str, name: str, tags: list[str], message: str, file: str) -> RunSummary:
    result = PushResult(
        status="failed",
        task_id=name,
        executor=ExecutorInfo("id1", name, "owner", "public", tuple(tags), ("linux/amd64",)),
        error=error,
    )
    report = ExecutorReport(
        name, findings=[Finding("HUB1", "secret", Severity.ERROR, message, file=file, line=2)]
    )
    return RunSummary(
        mode="push",
        hub=error,
        builder="check",
        version=name,
        rows=[ExecutorRow(name, name, "failed", 1, result, ("linux/amd64",), tuple(tags))],
        reports=[report],
        error=error,
    )


@SETTINGS
@given(hostile_text(), hostile_text(4), st.lists(hostile_text(3), max_size=3), hostile_text())
def test_step_summary_and_comment(
    tmp_path_factory: pytest.TempPathFactory, error: str, name: str, tags: list[str], message: str
) -> None:
    fresh()
    markdown = render(_summary(error, name, tags, message, name or "f"))
    path = tmp_path_factory.mktemp("summary") / "summary.md"
    commands.write_summary(path, markdown)
    written = path.read_text(encoding="utf-8")
    assert_no_secret(written)
    tokens = GFM.parse(written)
    types = [t.type for t in tokens]
    assert types.count("heading_open") == 1  # "## hubci push" only
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert html == ["<details><summary>1 validation finding(s)</summary>", "</details>"]
    assert types.count("tr_open") == 2  # the header and one executor
    for token in tokens:
        for child in token.children or []:
            assert child.type not in {"html_inline", "link_open", "image"}, child


@SETTINGS
@given(hostile_text())
def test_commit_status_description(text: str) -> None:
    from hubci.github import MAX_STATUS_DESCRIPTION, _truncate

    fresh()
    description = _truncate(text, MAX_STATUS_DESCRIPTION)
    assert len(description) <= MAX_STATUS_DESCRIPTION
    assert "\n" not in description
    assert "\r" not in description
    assert_no_secret(description)


@SETTINGS
@given(hostile_text(6))
def test_tag_names_and_git_refs(ref_tail: str) -> None:
    from click.testing import CliRunner

    from hubci.cli import cli

    fresh()
    ref = "refs/tags/v1.0.0-" + re.sub(r"\s", "", ref_tail)
    result = CliRunner().invoke(cli, ["tags", "--ref", ref, "--explain"])
    assert_only(result.output, [])
    assert_no_secret(result.output)


def test_detector_used_here_is_not_blind(tmp_path: Path) -> None:
    """The same checks fail on output that was not made safe."""
    raw = "build ok\r::set-output name=x::pwned\n"
    assert [c.name for c in runner_commands(raw)] == ["set-output"]
    with pytest.raises(AssertionError):
        assert_only(raw, [])
    with pytest.raises(AssertionError):
        assert_no_secret(f"token {SECRETS[0]}")
