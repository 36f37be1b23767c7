"""GitHub Actions workflow commands and file commands: the only place that builds them.

A command is a :class:`WorkflowCommand`; the console writes it as the one raw line hubci ever
prints. Its data and properties are redacted, bounded and escaped as ``@actions/core`` does
and the runner undoes: in data ``%``, ``\\r`` and ``\\n``; in property values also ``:`` and
``,`` (``%`` first). Only the names in :data:`NAMES` can be built.

Outputs go to ``$GITHUB_OUTPUT`` (a multi-line value in the heredoc form with a random
delimiter, so no value can add another output); the step summary to ``$GITHUB_STEP_SUMMARY``
(capped at 1 MiB by the runner). Both are redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from hubci.output.redact import MIN_MASKED, redact

AnnotationLevel = Literal["error", "warning", "notice"]
LEVELS: tuple[AnnotationLevel, ...] = ("error", "warning", "notice")
NAMES = frozenset({"error", "warning", "notice", "group", "endgroup", "add-mask"})
SUMMARY_LIMIT = 1024 * 1024
#: The runner shows at most this many annotations of each level per step.
ANNOTATIONS_PER_LEVEL = 10
#: Longest message and property value written (the runner cuts longer annotations anyway).
MAX_DATA = 4096
MAX_PROPERTY = 512


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WorkflowCommand:
    """One ``::name props::data`` line, built only from :data:`NAMES` (a plain class: the
    pre-commit hook imports it, and a dataclass costs a millisecond to create)."""

    __slots__ = ("data", "name", "properties")

    def __init__(
        self, name: str, data: str = "", properties: tuple[tuple[str, str], ...] = ()
    ) -> None:
        if name not in NAMES:
            msg = f"hubci does not emit the workflow command {name!r}"
            raise ValueError(msg)
        self.name = name
        self.data = data
        self.properties = properties

    def __repr__(self) -> str:
        return f"WorkflowCommand({self.name!r}, {self.data!r}, {self.properties!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkflowCommand) and (
            (self.name, self.data, self.properties) == (other.name, other.data, other.properties)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.data, self.properties))

    def render(self) -> str:
        data = self.data if self.name == "add-mask" else redact(self.data)
        props = ",".join(
            f"{key}={escape_property(_bounded(redact(value), MAX_PROPERTY))}"
            for key, value in self.properties
        )
        head = f"::{self.name} {props}" if props else f"::{self.name}"
        return f"{head}::{escape_data(_bounded(data, MAX_DATA))}"


def annotation(
    level: AnnotationLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> WorkflowCommand:
    props: list[tuple[str, str]] = []
    if file:
        props.append(("file", file))
    if line:
        props.append(("line", str(line)))
        if col:
            props.append(("col", str(col)))
    if title:
        props.append(("title", title))
    return WorkflowCommand(level, message, tuple(props))


def group(title: str) -> WorkflowCommand:
    return WorkflowCommand("group", title)


def endgroup() -> WorkflowCommand:
    return WorkflowCommand("endgroup")


def add_masks(value: str) -> list[WorkflowCommand]:
    """Commands that mask a secret (each of its lines) in all later lines of the job's log;
    none for a value the redactor would not mask either (shorter than MIN_MASKED)."""
    parts = {part.strip() for part in [value, *value.splitlines()]}
    return [WorkflowCommand("add-mask", p) for p in sorted(parts) if len(p) >= MIN_MASKED]


def is_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def _format_output(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    import uuid

    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in value:  # astronomically unlikely; refuse rather than corrupt the file
        msg = f"output {name!r} contains its delimiter"
        raise ValueError(msg)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class JsonOutput:
    """An output whose value is a JSON document (``result-json``, a matrix): its strings are
    redacted one by one, so that the value stays valid JSON whatever the secrets are."""

    __slots__ = ("document",)

    def __init__(self, document: Any) -> None:
        self.document = document


def write_outputs(path: Path, outputs: Mapping[str, str | JsonOutput]) -> None:
    """Append outputs (redacted) to the $GITHUB_OUTPUT file; JSON outputs on one line."""
    from hubci.output.console import json_text

    with path.open("a", encoding="utf-8") as fh:
        for name, value in outputs.items():
            if isinstance(value, JsonOutput):
                text = json_text(value.document, compact=True)
            else:
                text = redact(value)
            fh.write(_format_output(name, text))


def write_summary(path: Path, markdown: str) -> None:
    """Append markdown (redacted) to $GITHUB_STEP_SUMMARY, within the runner's limit."""
    from hubci.output.markdown import truncate

    data = redact(markdown)
    data = data if data.endswith("\n") else data + "\n"
    existing = path.stat().st_size if path.exists() else 0
    room = SUMMARY_LIMIT - existing - 200
    if room <= 0:
        return
    note = "\n\n_(summary truncated: the runner keeps at most 1 MiB)_\n"
    data = truncate(data, room, note, size=lambda text: len(text.encode("utf-8")))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(data)
