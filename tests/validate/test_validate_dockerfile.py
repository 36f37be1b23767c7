"""The Dockerfile parser: continuation, comments, directives, heredocs, errors with lines."""

from __future__ import annotations

import pytest

from hubci.dockerfile import (
    DockerfileSyntaxError,
    Instruction,
    parse_directives,
    parse_dockerfile,
)
from hubci.errors import HubciError


def test_instructions_with_continuations_and_comments() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "ARG BASE=jinaai/jina:3.20.0-py38-perf\n"
        "from ${BASE}\n"
        "\n"
        "# a comment\n"
        "RUN apt-get update && \\\n"
        "    # comment inside a continuation\n"
        "\n"
        "    apt-get install -y git   \\  \n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        'ENTRYPOINT ["jina", "executor", "--uses", "config.yml"]'
    )
    assert parse_dockerfile(text) == [
        Instruction("ARG", "BASE=jinaai/jina:3.20.0-py38-perf", 2),
        Instruction("FROM", "${BASE}", 3),
        Instruction(
            "RUN", "apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*", 6
        ),
        Instruction("ENTRYPOINT", '["jina", "executor", "--uses", "config.yml"]', 11),
    ]


def test_directives_and_the_backtick_escape() -> None:
    text = "# escape=`\n# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN echo a `\n  b\n"
    assert [(d.name, d.value, d.line) for d in parse_directives(text)] == [
        ("escape", "`", 1),
        ("syntax", "docker/dockerfile:1", 2),
    ]
    assert parse_dockerfile(text)[1] == Instruction("RUN", "echo a b", 4)


def test_a_directive_after_an_instruction_is_a_comment() -> None:
    text = "FROM python:3.11\n# escape=`\nRUN echo a \\\n  b\n"
    assert parse_dockerfile(text)[1] == Instruction("RUN", "echo a b", 3)


def test_heredoc_body_belongs_to_its_instruction() -> None:
    text = 'FROM python:3.11\nRUN <<EOF\nFROM is not an instruction here\nEOF\nCMD ["x"]\n'
    instructions = parse_dockerfile(text)
    assert [i.keyword for i in instructions] == ["FROM", "RUN", "CMD"]
    assert "FROM is not an instruction here" in instructions[1].value


def test_byte_order_mark_and_crlf_are_accepted() -> None:
    assert parse_dockerfile("\ufeffFROM python:3.11\r\nRUN true\r\n") == [
        Instruction("FROM", "python:3.11", 1),
        Instruction("RUN", "true", 2),
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("FROM python\nRUNN true\n", 2, "unknown instruction: RUNN"),
        ("FROM python\nRUN\n", 2, "RUN requires at least one argument"),
        ("FROM python\nRUN <<EOF\necho\n", 2, "heredoc <<EOF is not closed"),
        ("# escape=x\nFROM python\n", 1, "invalid escape token 'x': use \\ or `"),
    ],
)
def test_syntax_errors_carry_their_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_dockerfile(text)
    assert (info.value.line, info.value.reason) == (line, reason)
    assert isinstance(info.value, HubciError)
    assert info.value.format_message().startswith(f"line {line}: ")


def test_empty_and_comment_only_files_have_no_instructions() -> None:
    assert parse_dockerfile("") == []
    assert parse_dockerfile("# nothing\n\n") == []
