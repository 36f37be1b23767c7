"""Render a matrix: one line of JSON on stdout, notes on stderr, and the Actions outputs.

The JSON is a single line, so ``$GITHUB_OUTPUT`` gets plain ``name=value`` lines (written by
:func:`hubci.output.commands.write_outputs`, which switches to the heredoc form only for multi-line
values).
"""

from __future__ import annotations

from pathlib import Path

from hubci.matrix.plan import MatrixResult, printable
from hubci.output import commands
from hubci.output.commands import JsonOutput
from hubci.output.console import json_text
from hubci.output.markdown import code, text
from hubci.output.table import Column, Table

#: GitHub Actions refuses a matrix that would generate more jobs than this.
GITHUB_MATRIX_LIMIT = 256


def matrix_json(result: MatrixResult) -> str:
    """``{"include": [...]}`` on one line, keys in a fixed order, as the console writes it
    (strings redacted, ``##[`` escaped): the same text as the ``matrix`` output."""
    return json_text(result.to_json(), compact=True)


def _short(sha: str) -> str:
    return sha[:12]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def headline(result: MatrixResult, root: str) -> str:
    """One line saying what the matrix holds and why."""
    n, total = len(result.entries), result.total
    if result.mode == "changed" and result.changes is not None:
        since = f"since {result.changes.ref} (merge base {_short(result.changes.base)})"
        if n == 0:
            return f"matrix is empty: none of {_plural(total, 'executor')} changed {since}"
        return f"matrix: {n} of {_plural(total, 'executor')} changed {since}"
    if total == 0:
        return f"matrix is empty: no executor found under {root}"
    if result.mode == "fallback":
        fell_back = "every one (change detection fell back)"
        return f"matrix: {_plural(total, 'executor')} under {root}, {fell_back}"
    return f"matrix: {_plural(total, 'executor')} under {root}"


def notes(result: MatrixResult, root: str) -> tuple[list[str], list[str]]:
    """(information lines, warning lines) for stderr, without any prefix."""
    info = [headline(result, root)]
    info += [f"  {printable(path)}: {why}" for path, why in result.reasons.items()]
    ref = result.changes.ref if result.changes is not None else "the ref"
    info += [
        f"executor {printable(path)} was removed since {ref}: it is not in the matrix "
        "(nothing to push)"
        for path in result.removed
    ]
    warnings = [printable(line) for line in result.warnings]
    if len(result.entries) > GITHUB_MATRIX_LIMIT:
        warnings.append(
            f"the matrix has {len(result.entries)} entries but GitHub Actions runs at most "
            f"{GITHUB_MATRIX_LIMIT} jobs per matrix; split ROOT into several plan jobs"
        )
    return info, warnings


def github_outputs(result: MatrixResult) -> dict[str, str | JsonOutput]:
    return {
        "matrix": JsonOutput(result.to_json()),
        "count": str(len(result.entries)),
        "removed": JsonOutput(result.removed),
    }


def summary_markdown(result: MatrixResult, root: str) -> str:
    lines = [f"### Executor matrix\n\n{text(headline(result, root), limit=1000)}\n"]
    if result.entries:
        table = Table(
            [
                Column("path"),
                Column("name"),
                Column("jtype"),
                Column("platforms", empty="Hub default"),
                Column("why"),
            ]
        )
        for e in result.entries:
            table.add(e.path, e.name, e.jtype, e.platforms, result.reasons.get(e.path, ""))
        lines.append(table.markdown())
    if result.removed:
        lines.append("\nRemoved since the base (nothing to push):\n")
        lines += [f"- {code(printable(path))}" for path in result.removed]
    return "\n".join(lines) + "\n"


def write_github(result: MatrixResult, root: str, output: Path, summary: Path | None) -> None:
    """Append the outputs (and, when the runner gives a file, a step summary)."""
    commands.write_outputs(output, github_outputs(result))
    if summary is not None:
        commands.write_summary(summary, summary_markdown(result, root))
