"""Reporters for ``hubci validate``: text for people, JSON for tools, annotations for GitHub.

Each returns the whole output; the command prints it through :mod:`hubci.output.console`,
which redacts and neutralises every line (file names and messages quote the repository).
The GitHub rendering is a list of lines and annotation commands.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hubci.findings import ExecutorReport, Finding, Severity

if TYPE_CHECKING:
    from hubci.output.commands import AnnotationLevel, WorkflowCommand
    from hubci.output.console import JsonDocument

Format = Literal["text", "json", "github"]
FORMATS: tuple[Format, ...] = ("text", "json", "github")
_LEVEL: dict[Severity, AnnotationLevel] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def all_ok(reports: Sequence[ExecutorReport], *, strict: bool) -> bool:
    return all(r.ok(strict=strict) for r in reports)


def _join(folder: str, file: str | None) -> str:
    if not file:
        return folder
    if folder in ("", "."):
        return file
    return f"{folder.rstrip('/')}/{file}"


def _location(report: ExecutorReport, f: Finding) -> str:
    where = _join(report.path, f.file)
    if f.line:
        where += f":{f.line}"
        if f.col:
            where += f":{f.col}"
    return where


def _counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    parts = []
    for severity, word in (
        (Severity.ERROR, "error"),
        (Severity.WARNING, "warning"),
        (Severity.INFO, "info"),
    ):
        n = counts.get(severity, 0)
        if n:
            parts.append(f"{n} {word}" + ("s" if n != 1 and severity != Severity.INFO else ""))
    return ", ".join(parts) if parts else "no findings"


def text_line(report: ExecutorReport, f: Finding) -> str:
    """``PATH:LINE:COL: CODE severity: message (hint)``."""
    hint = f" ({f.hint})" if f.hint else ""
    return f"{_location(report, f)}: {f.code} {f.severity.value}: {f.message}{hint}"


def summary(reports: Sequence[ExecutorReport], *, strict: bool) -> str:
    findings = [f for r in reports for f in r.findings]
    failed = sum(not r.ok(strict=strict) for r in reports)
    n = len(reports)
    noun = "executor" if n == 1 else "executors"
    verdict = f"{failed} of {n} {noun} failed" if failed else f"{n} {noun} ok"
    suffix = " (--strict: warnings fail)" if strict and failed else ""
    return f"hubci validate: {verdict}; {_counts(findings)}{suffix}"


def render_text(reports: Sequence[ExecutorReport], *, strict: bool = False) -> str:
    lines: list[str] = []
    for report in reports:
        status = "ok" if report.ok(strict=strict) else "failed"
        name = f" {report.name}" if report.name else ""
        lines.append(f"{report.path}:{name} {status} ({_counts(report.findings)})")
        lines.extend(text_line(report, f) for f in report.findings)
    lines.append(summary(reports, strict=strict))
    return "\n".join(lines) + "\n"


def _json_document(reports: Sequence[ExecutorReport], *, strict: bool) -> dict[str, object]:
    return {
        "ok": all_ok(reports, strict=strict),
        "executors": [r.to_json(strict=strict) for r in reports],
    }


def _workspace_path(path: str, workspace: str | None) -> str:
    if not workspace:
        return path
    absolute = Path(os.path.normpath(Path(path).absolute()))
    root = Path(os.path.normpath(Path(workspace).absolute()))
    if absolute == root:
        return "."
    if root in absolute.parents:
        return absolute.relative_to(root).as_posix()
    return path


def render_github(
    reports: Sequence[ExecutorReport], *, strict: bool = False, workspace: str | None = None
) -> list[str | WorkflowCommand]:
    """Workflow-command annotations (file paths relative to ``workspace``), then a summary line.

    The console turns annotations past the runner's limit per level into neutral log lines.
    """
    from hubci.output.commands import annotation

    lines: list[str | WorkflowCommand] = []
    for report in reports:
        for f in report.findings:
            severity = f.severity
            if strict and severity == Severity.WARNING:
                severity = Severity.ERROR
            message = f.message + (f" ({f.hint})" if f.hint else "")
            if f.file:
                file: str | None = _workspace_path(_join(report.path, f.file), workspace)
            else:
                file = None
                message = f"{_workspace_path(report.path, workspace)}: {message}"
            lines.append(
                annotation(
                    _LEVEL[severity],
                    message,
                    file=file,
                    line=f.line if file else None,
                    col=f.col if file else None,
                    title=f.code,
                )
            )
    lines.append(summary(reports, strict=strict))
    return lines


def render(
    reports: Sequence[ExecutorReport],
    fmt: Format,
    *,
    strict: bool = False,
    workspace: str | None = None,
) -> Sequence[str | WorkflowCommand | JsonDocument]:
    """The whole output as lines (``github``: annotation commands too; ``json``: one
    document)."""
    if fmt == "json":
        from hubci.output.console import JsonDocument

        return [JsonDocument(_json_document(reports, strict=strict), indent=2)]
    if fmt == "github":
        return render_github(reports, strict=strict, workspace=workspace)
    # one write: the redactor sees a value even where a line break splits it
    return [render_text(reports, strict=strict).rstrip("\n")]
