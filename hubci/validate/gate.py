"""The check that stands before anything is sent or built (``push``, ``build``, the Action):
``hubci validate``'s checks with every referenced build env required, findings reported in
``hubci validate``'s own line format, errors raised as one ValidationError (exit 2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hubci.errors import ValidationError
from hubci.findings import ExecutorReport, Severity
from hubci.secret import Secret
from hubci.validate import validate_folder

if TYPE_CHECKING:
    from hubci.bundle import FileSet


def report_before_sending(
    folder: Path,
    *,
    dockerfile: str | None,
    build_env: Mapping[str, Secret],
    name: str | None = None,
    fileset: FileSet | None = None,
) -> ExecutorReport:
    """The checks, every build env that requirements.txt references needing a value."""
    return validate_folder(
        folder,
        dockerfile=dockerfile,
        build_env={key: value.reveal() for key, value in build_env.items()},
        require_build_env_values=True,
        name=name,
        fileset=fileset,
    )


def stop_on_errors(
    report: ExecutorReport, folder: Path, line: Callable[[str], None], *, action: str
) -> None:
    """Report warnings and errors (``PATH:LINE:COL: CODE severity: message``); raise when there
    is an error, saying that nothing was ``action`` (``sent``, ``built``)."""
    from hubci.validate.report import text_line

    errors = 0
    for finding in report.findings:
        if finding.severity == Severity.INFO:
            continue
        errors += finding.severity == Severity.ERROR
        line(text_line(replace(report, path=folder.name), finding))
    if errors:
        verb = {"sent": "push", "built": "build"}.get(action, action)
        msg = f"{errors} validation error(s) in {folder}; nothing was {action}"
        raise ValidationError(msg, f"fix them (listed above), then {verb} again")
