from __future__ import annotations

from pathlib import Path

import pytest

from hubci import ghactions


def test_annotation_escapes_message_and_properties() -> None:
    line = ghactions.annotation(
        "error", "50% bad\nsecond line", file="a,b:c.yml", line=3, col=5, title="X1"
    )
    assert line == "::error file=a%2Cb%3Ac.yml,line=3,col=5,title=X1::50%25 bad%0Asecond line"


def test_col_dropped_without_line() -> None:
    assert ghactions.annotation("warning", "m", file="f", col=4) == "::warning file=f::m"


def test_outputs_single_and_multiline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ghactions.write_outputs(out, {"a": "1", "tags": "x\ny"})
    lines = out.read_text().splitlines()
    assert lines[0] == "a=1"
    name, delim = lines[1].split("<<")
    assert name == "tags"
    assert lines[2:4] == ["x", "y"]
    assert lines[4] == delim


def test_mask_each_line(capsys: pytest.CaptureFixture[str]) -> None:
    ghactions.add_mask("top\nsecret")
    assert capsys.readouterr().out.splitlines() == ["::add-mask::top", "::add-mask::secret"]


def test_summary_truncated(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    ghactions.write_summary(summary, "x" * (2 * ghactions.SUMMARY_LIMIT))
    size = summary.stat().st_size
    assert size < ghactions.SUMMARY_LIMIT
    assert "truncated" in summary.read_text()
