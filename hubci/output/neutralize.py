"""The one neutraliser: text from a repository, a Hub, git or a build made inert.

GitHub's runner reads a step's stdout and stderr line by line, where ``\\n``, ``\\r\\n`` and a
bare ``\\r`` each end a line (.NET's ``ReadLine``). It runs a line as a workflow command when,
after leading white space, it starts with ``::`` (``::set-output name=x::y``), and it also runs
the older form ``##[command ...]`` found *anywhere* in a line. Its comparisons may be
culture-sensitive, which skips characters that Unicode says to ignore (zero-width spaces, a
soft hyphen, bidi marks, ...), so those count as absent here too.

:func:`neutralize` keeps every line break and every visible character and changes only what
could act:
- a line whose first visible characters are ``::`` gets the prefix ``| ``;
- in ``##[``, the ``[`` gets a backslash: ``##\\[``;
- control characters other than tab and the line breaks (escape sequences that repaint a
  terminal, NUL, DEL, C1 controls) become U+FFFD.

It is idempotent and safe on hubci's own text, so the console applies it to everything.
:func:`neutralize_json` does the same for a JSON document without breaking it.
"""

from __future__ import annotations

import re
from functools import cache

#: Unicode's Default_Ignorable_Code_Point set, plus combining diacritical marks: characters a
#: culture-sensitive comparison may skip.
IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff\u0300-\u036f"
)
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Prefix of a line that would otherwise start a workflow command.
INERT_PREFIX = "| "
REPLACEMENT = "\ufffd"


@cache
def _unicode_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a line the runner would read as ``::command``, ``##[`` with ignorable characters
    between its characters): compiled on first need, as ASCII text needs neither."""
    skip = rf"[\s{IGNORABLE}]"
    return (
        re.compile(rf"{skip}*:[{IGNORABLE}]*:"),
        re.compile(rf"#[{IGNORABLE}]*#[{IGNORABLE}]*\["),
    )


def _legacy_inert(match: re.Match[str]) -> str:
    return match.group()[:-1] + "\\["


def _line(segment: str) -> str:
    if segment.isascii():
        if segment.lstrip().startswith("::"):
            segment = INERT_PREFIX + segment
        return segment.replace("##[", "##\\[")
    command_start, legacy = _unicode_rules()
    if command_start.match(segment):
        segment = INERT_PREFIX + segment
    if "#" in segment:
        segment = legacy.sub(_legacy_inert, segment)
    return segment


def neutralize(text: str) -> str:
    """``text`` with nothing a runner or terminal would act on (see the module docstring)."""
    if not text:
        return text
    text = _CONTROL.sub(REPLACEMENT, text)
    if ":" not in text and "#" not in text:
        return text
    parts = _LINE_BREAK.split(text)
    # parts alternate: line, break, line, break, ..., line
    parts[::2] = [_line(p) for p in parts[::2]]
    return "".join(parts)


def flatten(text: str, limit: int | None = None) -> str:
    """``text`` on one line: control characters replaced, line breaks and runs of white space
    one space each; longer than ``limit`` characters, cut with an ellipsis."""
    flat = " ".join(_CONTROL.sub(REPLACEMENT, text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)].rstrip() + "…"
    return flat


def one_line(text: str, limit: int | None = None) -> str:
    """Untrusted text as one neutral line (:func:`flatten`, then :func:`neutralize`)."""
    return neutralize(flatten(text, limit))


def neutralize_json(document: str) -> str:
    """A JSON text (as ``json.dumps`` writes it) made inert with its values unchanged.

    ``json.dumps`` already escapes line breaks and control characters inside strings, and no
    line of its output starts with ``::``; what is left is ``##[`` inside a string, where the
    ``[`` becomes its escape ``\\u005b`` (the same character to a JSON reader).
    """
    if document.isascii():
        return document.replace("##[", "##\\u005b")
    return _unicode_rules()[1].sub(lambda m: m.group()[:-1] + "\\u005b", document)
