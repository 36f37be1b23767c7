"""A small, faithful Dockerfile parser: enough to check and rewrite what the Hub builds.

It follows BuildKit's front-end rules for what matters here: parser directives (``# syntax=``,
``# escape=``) only before the first comment, blank line or instruction; comment lines (also
inside a continued instruction); line continuation with the escape character (``\\`` or a
backtick); heredocs are kept as part of the instruction's value. Keywords are case-insensitive
and returned upper-case.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hubci.errors import ConfigError

#: Every instruction the Docker builder knows (BuildKit front end, 1.x syntax).
KEYWORDS: frozenset[str] = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


class DockerfileSyntaxError(ConfigError):
    """The Dockerfile cannot be parsed; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}", hint="fix the Dockerfile syntax")
        self.reason = message
        self.line = line


class Instruction(NamedTuple):
    """One Dockerfile instruction."""

    keyword: str  # upper-case, e.g. "FROM"
    value: str  # the arguments, continuation lines joined with a space
    line: int  # 1-based line of the keyword


class Directive(NamedTuple):
    """One parser directive (``# syntax=…``)."""

    name: str  # lower-case, e.g. "syntax"
    value: str
    line: int


def parse_directives(text: str) -> list[Directive]:
    """The parser directives at the top of a Dockerfile (``# syntax=…``, ``# escape=…``)."""
    out: list[Directive] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.match(raw.strip())
        if not match:
            break
        name = match.group(1).lower()
        if name in seen:
            # BuildKit stops reading directives at a repeated one and treats it as a comment.
            break
        seen.add(name)
        out.append(Directive(name, match.group(2), number))
    return out


def _escape_char(directives: list[Directive]) -> str:
    for directive in directives:
        if directive.name == "escape":
            if directive.value not in ("\\", "`"):
                msg = f"invalid escape token {directive.value!r}: use \\ or `"
                raise DockerfileSyntaxError(msg, directive.line)
            return directive.value
    return "\\"


def _continues(line: str, escape: str) -> tuple[bool, str]:
    """Whether ``line`` ends with the escape character (trailing spaces allowed)."""
    stripped = line.rstrip()
    if stripped.endswith(escape):
        return True, stripped[: -len(escape)]
    return False, line


def parse_dockerfile(text: str) -> list[Instruction]:
    """Parse ``text`` into instructions; raise :class:`DockerfileSyntaxError` on bad input."""
    text = text.removeprefix("\ufeff")
    directives = parse_directives(text)
    escape = _escape_char(directives)
    lines = text.splitlines()
    out: list[Instruction] = []
    index = len(directives)
    while index < len(lines):
        raw = lines[index]
        number = index + 1
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts: list[str] = []
        more, body = _continues(stripped, escape)
        parts.append(body.strip())
        while more and index < len(lines):
            nxt = lines[index]
            index += 1
            nxt_stripped = nxt.strip()
            if nxt_stripped.startswith("#"):
                continue  # comment lines inside a continued instruction are dropped
            if not nxt_stripped:
                continue  # BuildKit warns about empty continuation lines but accepts them
            more, body = _continues(nxt_stripped, escape)
            parts.append(body.strip())
        joined = " ".join(p for p in parts if p)
        keyword, _, value = joined.partition(" ")
        keyword_upper = keyword.upper()
        if keyword_upper not in KEYWORDS:
            msg = f"unknown instruction: {keyword[:40]}"
            raise DockerfileSyntaxError(msg, number)
        value = value.strip()
        heredoc = _HEREDOC.search(value) if keyword_upper in {"RUN", "COPY", "ADD"} else None
        if heredoc:
            terminator = heredoc.group(2)
            body_lines: list[str] = []
            while index < len(lines):
                nxt = lines[index]
                index += 1
                if nxt.strip() == terminator:
                    break
                body_lines.append(nxt)
            else:
                msg = f"heredoc <<{terminator} is not closed"
                raise DockerfileSyntaxError(msg, number)
            value = "\n".join([value, *body_lines, terminator])
        if not value:
            msg = f"{keyword_upper} requires at least one argument"
            raise DockerfileSyntaxError(msg, number)
        out.append(Instruction(keyword_upper, value, number))
    return out


# -- analysis shared by validate, the local Hub's check builder and ``hubci build`` ----------


def arg_names(instructions: list[Instruction]) -> set[str]:
    """The build args the Dockerfile declares (``ARG NAME`` or ``ARG NAME=default``)."""
    names: set[str] = set()
    for ins in instructions:
        if ins.keyword == "ARG":
            for item in ins.value.split():
                names.add(item.split("=", 1)[0])
    return names


def copy_sources(ins: Instruction) -> list[str]:
    """The build-context paths a ``COPY``/``ADD`` reads: not a URL, not ``--from`` another
    stage, not an inline heredoc, not a ``$VAR`` (unknown before the build)."""
    import json
    import shlex

    value = ins.value
    if "\n" in value:  # heredoc: inline content, nothing to look up
        return []
    if value.startswith("["):
        try:
            parts = json.loads(value)
        except ValueError:
            return []
        if not isinstance(parts, list):
            return []
        items = [str(p) for p in parts]
    else:
        try:
            items = shlex.split(value)
        except ValueError:
            return []
    if any(item.startswith("--from") for item in items):
        return []
    items = [item for item in items if not item.startswith("--")]
    return [s for s in items[:-1] if "://" not in s and "$" not in s]


def outside_context(source: str) -> bool:
    """Whether a COPY/ADD source leaves the build context (``../models``, ``a/../../x``); the
    Engine refuses it ("forbidden path outside the build context")."""
    import posixpath

    normal = posixpath.normpath(source.lstrip("/") or ".")
    return normal == ".." or normal.startswith("../")


class BakedValue(NamedTuple):
    """A literal value an ``ENV``, ``ARG`` default or ``LABEL`` writes into the image."""

    instruction: Instruction
    key: str
    value: str


def baked_values(instructions: list[Instruction]) -> list[BakedValue]:
    """Every ``KEY=value`` of ``ENV``, ``LABEL`` and ``ARG`` defaults (and the old ``ENV KEY
    value`` form) whose value is literal: a ``$VAR`` reference is left out (its value comes
    from the build, not from the file)."""
    import shlex

    found: list[BakedValue] = []
    for ins in instructions:
        if ins.keyword not in ("ENV", "ARG", "LABEL"):
            continue
        try:
            items = shlex.split(ins.value)
        except ValueError:
            continue
        pairs: list[tuple[str, str]] = []
        if ins.keyword == "ENV" and items and "=" not in items[0]:
            pairs.append((items[0], " ".join(items[1:])))  # ENV KEY value
        else:
            for item in items:
                key, eq, value = item.partition("=")
                if eq:
                    pairs.append((key, value))
        for key, value in pairs:
            if value and "$" not in value:
                found.append(BakedValue(ins, key, value))
    return found
