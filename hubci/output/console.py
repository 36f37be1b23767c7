"""The console: the only writer of hubci's stdout and stderr.

Every text method redacts (:mod:`hubci.output.redact`) and neutralises
(:mod:`hubci.output.neutralize`) what it is given, whatever its origin, so a line from a build, a
Hub or a repository cannot become a workflow command or show a secret. The one raw line hubci
writes is a :class:`~hubci.output.commands.WorkflowCommand`, escaped by its own module.

Annotations beyond the runner's limit per level (10 per step) are not dropped: they are written
as plain (neutral) log lines, and the first time that happens one line says so.

A line may carry a tone (error, warning, ok): its first line is coloured on a terminal, never in
a file or a pipe (click strips the codes there), and never when ``NO_COLOR`` is set or
``TERM=dumb``. The colour codes are added after the text was made inert.
"""

from __future__ import annotations

import _thread
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal, TextIO

import click

from hubci.output import commands
from hubci.output.commands import AnnotationLevel, WorkflowCommand
from hubci.output.neutralize import neutralize, neutralize_json
from hubci.output.redact import redact, redact_document

Tone = Literal["error", "warning", "ok"]
_COLOURS: dict[str, str] = {"error": "red", "warning": "yellow", "ok": "green"}
_lock = _thread.RLock()
_annotations: Counter[str] = Counter()


def _colour_allowed() -> bool | None:
    """False when the user asked for no colour (``NO_COLOR``, ``TERM=dumb``); else None: click
    colours a terminal and strips the codes elsewhere."""
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return None


def safe(text: str) -> str:
    """What any text becomes on its way out: redacted, then made inert."""
    return neutralize(redact(text))


def json_text(document: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """A JSON document as the console writes it: every string redacted (not the text: a secret
    ``null`` must not unquote a value), ``##[`` escaped, still valid JSON."""
    import json

    separators = (",", ":") if compact else None
    text = json.dumps(redact_document(document), indent=indent, separators=separators)
    return neutralize_json(text)


class JsonDocument:
    """A JSON document among a reporter's lines: written with :func:`json_text`."""

    __slots__ = ("document", "indent")

    def __init__(self, document: Any, *, indent: int | None = None) -> None:
        self.document = document
        self.indent = indent


class Console:
    """Writes to ``stdout``/``stderr`` (default: the process's streams at the time of writing,
    so click's test runner sees them; a buffer such as ``io.StringIO`` works too)."""

    def __init__(self, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self._stdout = stdout
        self._stderr = stderr

    def _write(self, text: str, *, err: bool, nl: bool = True, tone: Tone | None = None) -> None:
        stream = self._stderr if err else self._stdout
        colour = _colour_allowed()
        if tone is not None and colour is not False:
            first, sep, rest = text.partition("\n")
            text = click.style(first, fg=_COLOURS[tone]) + sep + rest
        with _lock:
            click.echo(text, file=stream, err=err and stream is None, nl=nl, color=colour)

    def out(self, text: str = "", *, nl: bool = True, tone: Tone | None = None) -> None:
        self._write(safe(text), err=False, nl=nl, tone=tone)

    def err(self, text: str = "", *, nl: bool = True, tone: Tone | None = None) -> None:
        self._write(safe(text), err=True, nl=nl, tone=tone)

    def line(self, text: str = "", *, err: bool = False, tone: Tone | None = None) -> None:
        self._write(safe(text), err=err, tone=tone)

    def json(
        self,
        document: Any,
        *,
        indent: int | None = None,
        compact: bool = False,
        err: bool = False,
    ) -> None:
        """One JSON document (redacted values, ``##[`` escaped), parseable as it was; never
        through the text redactor, which does not know JSON."""
        self._write(json_text(document, indent=indent, compact=compact), err=err)

    def command(self, command: WorkflowCommand, *, err: bool = False) -> None:
        """A workflow command; an annotation past the runner's limit becomes a log line."""
        if command.name in commands.LEVELS:
            with _lock:
                _annotations[command.name] += 1
                shown = _annotations[command.name]
            if shown > commands.ANNOTATIONS_PER_LEVEL:
                self._overflow(command, first=shown == commands.ANNOTATIONS_PER_LEVEL + 1, err=err)
                return
        self._write(command.render(), err=err)

    def _overflow(self, command: WorkflowCommand, *, first: bool, err: bool) -> None:
        level = command.name
        if first:
            self.line(
                f"hubci: the runner shows {commands.ANNOTATIONS_PER_LEVEL} {level} annotations "
                "per step; the rest follow as log lines",
                err=err,
            )
        props = dict(command.properties)
        where = props.get("file", "")
        if where and props.get("line"):
            where += f":{props['line']}" + (f":{props['col']}" if props.get("col") else "")
        parts = [f"{level}:", f"{where}:" if where else "", props.get("title", ""), command.data]
        self.line(" ".join(p for p in parts if p), err=err)

    def annotation(
        self,
        level: AnnotationLevel,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        title: str | None = None,
        err: bool = False,
    ) -> None:
        self.command(
            commands.annotation(level, message, file=file, line=line, col=col, title=title),
            err=err,
        )

    def emit(
        self, items: Iterable[str | WorkflowCommand | JsonDocument], *, err: bool = False
    ) -> None:
        """Lines, commands and JSON documents in order (a reporter's whole output)."""
        for item in items:
            if isinstance(item, WorkflowCommand):
                self.command(item, err=err)
            elif isinstance(item, JsonDocument):
                self.json(item.document, indent=item.indent, err=err)
            else:
                self.line(item, err=err)

    def add_masks(self, value: str) -> None:
        for command in commands.add_masks(value):
            self.command(command)

    def group(self, title: str, *, err: bool = False) -> None:
        self.command(commands.group(title), err=err)

    def endgroup(self, *, err: bool = False) -> None:
        self.command(commands.endgroup(), err=err)


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` through the console (a library's warning may quote a URL or a
    server's words)."""
    import warnings

    text = warnings.formatwarning(message, category, filename, lineno, line)
    Console(stderr=file).err(text.rstrip("\n"))


def reset_annotation_counts() -> None:
    """A new step (or test) starts from no annotations."""
    with _lock:
        _annotations.clear()
