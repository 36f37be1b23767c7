"""Workflow commands and file commands (hubci.output.commands)."""

from __future__ import annotations

from pathlib import Path

from hubci.output import commands
from hubci.output.redact import register


def test_annotation_escapes_message_and_properties() -> None:
    line = commands.annotation(
        "error", "50% bad\nsecond line", file="a,b:c.yml", line=3, col=5, title="X1"
    ).render()
    assert line == "::error file=a%2Cb%3Ac.yml,line=3,col=5,title=X1::50%25 bad%0Asecond line"


def test_col_dropped_without_line() -> None:
    assert commands.annotation("warning", "m", file="f", col=4).render() == "::warning file=f::m"


def test_annotation_data_and_properties_are_redacted() -> None:
    register("hunter22")
    line = commands.annotation("error", "pw hunter22", file="x/hunter22.key", title="t").render()
    assert "hunter22" not in line
    assert line == "::error file=x/***.key,title=t::pw ***"


def test_only_known_commands_can_be_built() -> None:
    import pytest

    with pytest.raises(ValueError, match="set-output"):
        commands.WorkflowCommand("set-output", "x")


def test_outputs_single_and_multiline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    commands.write_outputs(out, {"a": "1", "tags": "x\ny"})
    lines = out.read_text().splitlines()
    assert lines[0] == "a=1"
    name, delim = lines[1].split("<<")
    assert name == "tags"
    assert lines[2:4] == ["x", "y"]
    assert lines[4] == delim


def test_outputs_are_redacted(tmp_path: Path) -> None:
    register("s3cr3t-value")
    out = tmp_path / "out"
    commands.write_outputs(out, {"a": "x s3cr3t-value y"})
    assert out.read_text() == "a=x *** y\n"


def test_mask_each_line() -> None:
    lines = [c.render() for c in commands.add_masks("top\nsecret")]
    assert sorted(lines) == ["::add-mask::secret", "::add-mask::top", "::add-mask::top%0Asecret"]


def test_short_values_are_not_masked() -> None:
    assert commands.add_masks("on") == []


def test_summary_truncated(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    commands.write_summary(summary, "x" * (2 * commands.SUMMARY_LIMIT))
    size = summary.stat().st_size
    assert size < commands.SUMMARY_LIMIT
    assert "truncated" in summary.read_text()
