"""The neutraliser against the runner's real line rules, and the detector the suite relies on."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.output.neutralize import flatten, neutralize, neutralize_json, one_line
from testing.hostile_text import hostile_text
from testing.runner import commands

EXAMPLES = 600


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("::set-output name=x::y", "set-output"),
        ("  ::set-output name=x::y", "set-output"),
        ("progress 10%\r::set-output name=x::y", "set-output"),
        ("a\r\n::error::x", "error"),
        ("RUN echo ##[set-output name=x;]y", "set-output"),
        ("\u200b::add-mask::x", "add-mask"),
        (":\u200b:warning::x", "warning"),
        ("#\u200b#[error]x", "error"),
        ("::foo::##[set-output name=x;]y", "set-output"),
    ],
)
def test_the_detector_sees_what_the_runner_runs(text: str, name: str) -> None:
    assert [c.name for c in commands(text)] == [name]
    assert commands(neutralize(text)) == []


def test_neutralize_keeps_what_cannot_act() -> None:
    text = "Step 1/2 : RUN make\nok: a :: b ## c [d]\ttab"
    assert neutralize(text) == text


def test_neutralize_marks_what_could_act() -> None:
    assert neutralize("x\r::set-output name=a::b") == "x\r| ::set-output name=a::b"
    assert neutralize("echo ##[error]x") == "echo ##\\[error]x"
    assert neutralize("red \x1b[31m text\x00") == "red \ufffd[31m text\ufffd"


@settings(max_examples=EXAMPLES)
@given(hostile_text())
def test_no_text_survives_as_a_command(text: str) -> None:
    safe = neutralize(text)
    assert commands(safe) == []
    assert neutralize(safe) == safe  # idempotent: the console may see text twice


@settings(max_examples=EXAMPLES)
@given(hostile_text())
def test_line_breaks_and_visible_text_are_kept(text: str) -> None:
    safe = neutralize(text)
    assert safe.count("\n") == text.count("\n")
    assert safe.count("\r") == text.count("\r")
    # only prefixes, backslashes and replacement characters are added
    assert len(safe) >= len(text)


@settings(max_examples=EXAMPLES)
@given(hostile_text(), st.integers(min_value=1, max_value=80))
def test_one_line_is_one_bounded_inert_line(text: str, limit: int) -> None:
    line = one_line(text, limit)
    assert "\n" not in line
    assert "\r" not in line
    assert len(flatten(text, limit)) <= limit
    assert commands(line) == []


@settings(max_examples=EXAMPLES)
@given(st.dictionaries(hostile_text(4), hostile_text(), max_size=4), st.sampled_from([None, 2]))
def test_json_stays_the_same_document(document: dict[str, str], indent: int | None) -> None:
    text = neutralize_json(json.dumps(document, indent=indent))
    assert json.loads(text) == document
    assert commands(text) == []
    assert neutralize(text) == text  # the console's second pass changes nothing
