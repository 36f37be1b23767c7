"""GitHub Actions workflow commands and file commands, in one place.

Escaping follows what @actions/core emits and the runner undoes: in messages ``%``, ``\\r`` and
``\\n``; in property values additionally ``:`` and ``,`` (``%`` first). Outputs go to
``$GITHUB_OUTPUT`` (multi-line values with a random delimiter), the summary to
``$GITHUB_STEP_SUMMARY`` (capped at 1 MiB by the runner).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TextIO

import click

AnnotationLevel = Literal["error", "warning", "notice"]
SUMMARY_LIMIT = 1024 * 1024


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: object) -> str:
    """Format one workflow command line (properties with value None are left out)."""
    props = ",".join(
        f"{key}={escape_property(str(val))}" for key, val in properties.items() if val is not None
    )
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(message)}"


def annotation(
    level: AnnotationLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    return command(level, message, file=file, line=line, col=col if line else None, title=title)


def is_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def add_mask(value: str, out: TextIO | None = None) -> None:
    """Mask a secret (each of its lines) in all later log lines of the job."""
    for part in value.splitlines() or [value]:
        if part.strip():
            click.echo(f"::add-mask::{escape_data(part)}", file=out)


@contextmanager
def group(title: str, out: TextIO | None = None) -> Iterator[None]:
    click.echo(command("group", title), file=out)
    try:
        yield
    finally:
        click.echo("::endgroup::", file=out)


def _format_output(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in value:  # astronomically unlikely; refuse rather than corrupt the file
        msg = f"output {name!r} contains its delimiter"
        raise ValueError(msg)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append outputs to the $GITHUB_OUTPUT file."""
    with path.open("a", encoding="utf-8") as fh:
        for name, value in outputs.items():
            fh.write(_format_output(name, value))


def write_summary(path: Path, markdown: str) -> None:
    """Append markdown to $GITHUB_STEP_SUMMARY, truncated to stay under the runner's limit."""
    data = markdown if markdown.endswith("\n") else markdown + "\n"
    encoded = data.encode("utf-8")
    existing = path.stat().st_size if path.exists() else 0
    room = SUMMARY_LIMIT - existing - 200
    if room <= 0:
        return
    if len(encoded) > room:
        note = "\n\n_(summary truncated: the runner keeps at most 1 MiB)_\n"
        data = encoded[: room - len(note)].decode("utf-8", "ignore") + note
    with path.open("a", encoding="utf-8") as fh:
        fh.write(data)
