"""One table, two renderings: aligned text for a terminal, a GitHub markdown table for the step
summary and the pull request comment (the push summary, the Action's summary, the matrix).

A cell is untrusted text (a plain ``str``: a folder, a name, a tag, an error), shown flat on a
terminal and as a code span in markdown (:mod:`hubci.output.markdown`), or hubci's own words
(:class:`Own`: a status, an exit code, a duration), shown as they are in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hubci.output.markdown import cell
from hubci.output.neutralize import flatten


@dataclass(frozen=True)
class Own:
    """hubci's own words or numbers: never escaped, never quoted."""

    text: str


Cell = str | Own


@dataclass(frozen=True)
class Column:
    title: str
    #: Shown (as hubci's own words) where an untrusted value is empty.
    empty: str = "-"


@dataclass
class Table:
    columns: Sequence[Column]
    rows: list[Sequence[Cell]] = field(default_factory=list)

    def add(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            msg = f"a row of {len(cells)} cells in a table of {len(self.columns)} columns"
            raise ValueError(msg)
        self.rows.append(cells)

    def _plain(self, value: Cell, column: Column) -> str:
        if isinstance(value, Own):
            return value.text
        return flatten(value) or column.empty

    def text(self) -> str:
        """Aligned columns (the last one not padded), the titles first."""
        grid = [[c.title for c in self.columns]]
        grid += [
            [self._plain(v, c) for v, c in zip(r, self.columns, strict=True)] for r in self.rows
        ]
        widths = [max(len(line[i]) for line in grid) for i in range(len(self.columns) - 1)]
        return "\n".join(
            "  ".join(
                [*(v.ljust(w) for v, w in zip(line, widths, strict=False)), line[-1]]
            ).rstrip()
            for line in grid
        )

    def markdown(self) -> str:
        """A GitHub table: untrusted cells as code spans, hubci's own words as they are."""
        out = [
            "| " + " | ".join(c.title for c in self.columns) + " |",
            "|" + " --- |" * len(self.columns),
        ]
        for row in self.rows:
            cells = [
                v.text if isinstance(v, Own) else cell(v, empty=c.empty)
                for v, c in zip(row, self.columns, strict=True)
            ]
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out)
