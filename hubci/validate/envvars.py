"""Build-env references in ``requirements.txt``: ``${NAME}`` and the forms the Hub silently skips.

The Hub substitutes only ``${NAME}`` with NAME of upper-case letters, digits and ``_``
(docs/protocol.md#build-envs). Everything else that looks like a variable (``$NAME``, ``${lower}``,
``${A-B}``, ``${ A }``, an unclosed ``${``) reaches pip as literal text, so it is reported here
with its line and column.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hubci import rules

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TRAILING_COMMENT = re.compile(r"\s#")  # pip: `#` after whitespace starts a comment


class EnvRef(NamedTuple):
    """One ``$``-reference in requirements.txt and whether the Hub substitutes it."""

    name: str  # the text between the braces (or after ``$``); "" when empty
    line: int  # 1-based
    col: int  # 1-based column of the ``$``
    valid: bool
    problem: str | None = None  # why it is invalid, phrased to follow "the reference ..."


def _problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if rules.BUILD_ENV_NAME.match(name):
        return None
    if name.strip() != name:
        return "has spaces inside the braces"
    if name.startswith("_"):
        return "starts with '_'"
    if any(c.isalpha() and not (c.isascii() and c.isupper()) for c in name):
        return "has lower-case or non-ASCII letters"
    bad = sorted(
        {c for c in name if not (c.isascii() and (c.isupper() or c.isdigit() or c == "_"))}
    )
    return "contains " + " ".join(repr(c) for c in bad[:3])


def scan_line(text: str, line: int) -> list[EnvRef]:
    """All references in one line of text."""
    out: list[EnvRef] = []
    pos = 0
    while True:
        pos = text.find("$", pos)
        if pos < 0:
            return out
        col = pos + 1
        nxt = text[pos + 1 : pos + 2]
        if nxt == "{":
            end = text.find("}", pos + 2)
            if end < 0:
                rest = text[pos + 2 :].split()
                name = rest[0] if rest else ""
                out.append(EnvRef(name, line, col, False, "is not closed with '}'"))
                return out
            name = text[pos + 2 : end]
            problem = _problem(name)
            out.append(EnvRef(name, line, col, problem is None, problem))
            pos = end + 1
            continue
        bare = _BARE.match(text, pos + 1)
        if bare:
            out.append(EnvRef(bare.group(0), line, col, False, "has no braces"))
            pos = bare.end()
            continue
        pos += 1  # a lone "$" (e.g. "$$" or "$1") is not a reference


def find_env_refs(text: str) -> list[EnvRef]:
    """References in ``requirements.txt`` text, skipping the lines the Hub skips.

    Like the Hub, whole-line comments are skipped and trailing ``# …`` comments are scanned for
    ``${NAME}`` (the client demands those too). The forms the Hub does not substitute are
    reported only outside a trailing comment: pip ignores the comment, so ``$HOME`` there is
    harmless.
    """
    out: list[EnvRef] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip().startswith("#"):
            continue
        refs = scan_line(raw, number)
        comment = _TRAILING_COMMENT.search(raw)
        if comment is not None:
            refs = [r for r in refs if r.valid or r.col <= comment.start()]
        out.extend(refs)
    return out
