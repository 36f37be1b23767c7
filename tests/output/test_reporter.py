"""The one reporter: the same results for a terminal and for GitHub's runner."""

from __future__ import annotations

import io

from hubci.output.reporter import Reporter
from hubci.output.table import Column, Own, Table
from testing.runner import assert_only


def _say(reporter: Reporter) -> None:
    reporter.warning("w\r::set-output name=x::y", title="t")
    reporter.error("e")
    with reporter.group("g1"):
        reporter.line("inside")
    reporter.block("g2", "a\nb\n")
    table = Table([Column("executor"), Column("status")])
    table.add("x", Own("ok"))
    reporter.table(table)


def test_terminal() -> None:
    out = io.StringIO()
    _say(Reporter(out))
    assert out.getvalue().splitlines() == [
        "hubci: warning: w",
        "| ::set-output name=x::y",
        "hubci: error: e",
        "── g1",
        "inside",
        "── g2",
        "a",
        "b",
        "executor  status",
        "x         ok",
    ]
    assert_only(out.getvalue(), [])


def test_github() -> None:
    out = io.StringIO()
    _say(Reporter(out, github=True))
    found = assert_only(
        out.getvalue(), ["warning", "error", "group", "endgroup", "group", "endgroup"]
    )
    assert found[0].data == "w\r::set-output name=x::y"  # the runner shows it, as data
    assert found[0].properties == {"title": "t"}
