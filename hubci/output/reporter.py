"""The one reporter: the same results rendered for a terminal or for a GitHub Actions runner.

Every command that says something about its results (notes, warnings, errors, a group of lines
per executor, tables) says it through a :class:`Reporter`; the reporter alone decides how:

========== ================================== ==========================================
           terminal                            GitHub Actions (``github=True``)
========== ================================== ==========================================
warning    ``hubci: warning: …`` (yellow)      a ``::warning`` annotation
error      ``hubci: error: …`` (red)           an ``::error`` annotation
group      ``── title`` then its lines         ``::group::title`` … ``::endgroup::``
table      aligned text                        aligned text in the log (markdown goes to
                                               the step summary: :meth:`Table.markdown`)
========== ================================== ==========================================

Findings (``hubci validate``'s results) are rendered by :mod:`hubci.validate.report` through
the same choice. Everything goes through :class:`~hubci.output.console.Console`, so it is
redacted and inert whichever way it is rendered.
"""

from __future__ import annotations

import _thread
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from hubci.output.console import Console
from hubci.output.table import Table


class Reporter:
    """Renders for a terminal, or for GitHub's runner with ``github=True``.

    ``out`` is the stream (default: stderr, where notes belong while stdout carries results; the
    Action writes its job log to stdout). Blocks written from several threads never interleave.
    """

    def __init__(self, out: TextIO | None = None, *, github: bool = False) -> None:
        self.console = Console(stdout=out, stderr=out)
        self.err = out is None
        self.github = github
        self._lock = _thread.RLock()

    def line(self, text: str) -> None:
        with self._lock:
            self.console.line(text, err=self.err)

    def note(self, text: str) -> None:
        """hubci's own remark: ``hubci: text``."""
        self.line(f"hubci: {text}")

    def warning(self, text: str, *, title: str | None = None) -> None:
        with self._lock:
            if self.github:
                self.console.annotation("warning", text, title=title, err=self.err)
            else:
                self.console.line(f"hubci: warning: {text}", err=self.err, tone="warning")

    def error(self, text: str, *, title: str | None = None) -> None:
        with self._lock:
            if self.github:
                self.console.annotation("error", text, title=title, err=self.err)
            else:
                self.console.line(f"hubci: error: {text}", err=self.err, tone="error")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """Lines written inside belong to ``title`` (a collapsible group in a job log)."""
        with self._lock:
            if self.github:
                self.console.group(title, err=self.err)
            else:
                self.console.line(f"── {title}", err=self.err)
            try:
                yield
            finally:
                if self.github:
                    self.console.endgroup(err=self.err)

    def block(self, title: str, text: str) -> None:
        """A whole group at once (an executor's buffered log): never interleaved with another."""
        body = text.rstrip("\n")
        with self.group(title):
            if body:
                self.line(body)

    def table(self, table: Table) -> None:
        self.line(table.text())
