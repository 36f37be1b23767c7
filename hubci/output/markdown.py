"""The one markdown escaper: untrusted text in the step summary and the pull request comment.

Untrusted text (an error from a Hub, a file name, an executor name, a tag) is shown as an inline
code span, which GitHub renders literally: no HTML (``</details>``), no heading, no link, no
``@mention`` and no ``#123`` reference can come out of it. The span is one line (CommonMark ends
a line at ``\\n``, ``\\r\\n`` and a bare ``\\r``; each becomes a space), bounded in length, and
fenced with more backticks than the text holds in a row. In a table cell, ``|`` is escaped as
GitHub's table syntax requires (inside code too).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hubci.output.neutralize import flatten

#: Longest untrusted text shown in one place of a summary or comment.
DEFAULT_LIMIT = 300
_TICKS = re.compile(r"`+")


def code(
    text: str | None, *, cell: bool = False, limit: int = DEFAULT_LIMIT, empty: str = "-"
) -> str:
    """``text`` as one inline code span (``empty`` when there is nothing to show)."""
    flat = flatten(text or "", limit)
    if not flat.strip():
        return empty
    longest = max((len(run) for run in _TICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    if flat.startswith("`") or flat.endswith("`") or (flat[0] == " " and flat[-1] == " "):
        flat = f" {flat} "
    if cell:
        flat = flat.replace("|", "\\|")
    return f"{fence}{flat}{fence}"


def cell(text: str | None, *, limit: int = DEFAULT_LIMIT, empty: str = "-") -> str:
    """Untrusted text for a table cell."""
    return code(text, cell=True, limit=limit, empty=empty)


_INLINE = re.compile(r"([\\`*_{}\[\]<>&|~!#])")
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def text(value: str | None, *, limit: int = DEFAULT_LIMIT) -> str:
    """Untrusted text as plain prose on one line: every character that can start markdown or
    HTML is backslash-escaped (a list marker too, at the start), and ``@`` cannot start a
    mention (a word joiner follows it)."""
    flat = _INLINE.sub(r"\\\1", flatten(value or "", limit))
    flat = _BLOCK_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", flat)
    return flat.replace("@", "@\u2060")


def truncate(markdown: str, limit: int, note: str, *, size: Callable[[str], int] = len) -> str:
    """``markdown`` within ``limit`` (as measured by ``size``), cut at a line boundary, never
    inside a line: untrusted text sits in one-line code spans, and a span cut open would let
    the rest of its text render as markdown. A code fence or ``<details>`` left open is closed
    before ``note``, which is appended."""
    if size(markdown) <= limit:
        return markdown
    closers = "\n```\n" + "\n</details>\n" * markdown.count("<details")
    room = limit - size(note) - size(closers)
    kept: list[str] = []
    used = 0
    for line in markdown.split("\n"):
        cost = size(line) + 1
        if used + cost > room:
            break
        kept.append(line)
        used += cost
    fences = sum(line.lstrip().startswith("```") for line in kept)
    if fences % 2:
        kept.append("```")
    opened = sum(line.lstrip().startswith("<details") for line in kept)
    closed = sum(line.lstrip().startswith("</details>") for line in kept)
    kept += ["", "</details>"] * max(opened - closed, 0)
    return "\n".join(kept).rstrip("\n") + note
