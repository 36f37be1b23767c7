"""The Action's step summary (and sticky pull request comment): markdown from the outcomes.

Every value that came from a repository, a Hub, git or a build (folders, names, tags, errors,
finding messages, task ids) goes through :mod:`hubci.output.markdown`, which shows it as one
bounded code span: nothing in it can close ``<details>``, start a heading or mention anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hubci.findings import ExecutorReport, Severity
from hubci.output.markdown import code
from hubci.output.neutralize import flatten
from hubci.output.table import Column, Own, Table
from hubci.push.result import PushResult


@dataclass(frozen=True)
class ExecutorRow:
    """One executor of the run, as the summary and the outputs see it."""

    folder: str  # relative to the workspace
    name: str | None
    status: str  # succeeded | failed | timeout | submitted | validated | skipped
    exit_code: int
    result: PushResult | None
    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass
class RunSummary:
    mode: str
    hub: str
    builder: str | None
    version: str | None
    rows: list[ExecutorRow] = field(default_factory=list)
    reports: list[ExecutorReport] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0


_ICON = {
    "succeeded": "✅",
    "validated": "✅",
    "submitted": "⏳",
    "unchanged": "♻️",
    "timeout": "⌛",
    "failed": "❌",
    "skipped": "⏭️",
}


def render(summary: RunSummary) -> str:
    lines = [f"## hubci {summary.mode}", ""]
    facts = [f"Hub: {code(summary.hub)}"]
    if summary.builder:
        facts.append(f"builder: {summary.builder}")  # check or docker
    if summary.version:
        facts.append(f"version: {code(summary.version)}")
    facts.append(f"duration: {summary.duration_s:.1f}s")
    lines += [" · ".join(facts), ""]
    if summary.error:
        lines += [f"❌ {code(summary.error, limit=1000)}", ""]
    if summary.rows:
        table = Table(
            [
                Column("executor"),
                Column("namespace / name"),
                Column("status"),
                Column("tags", empty="latest (Hub default)"),
                Column("platforms", empty="Hub default"),
                Column("task"),
                Column("time"),
            ]
        )
        for row in summary.rows:
            ex = row.result.executor if row.result else None
            owner = f"{ex.owner}/" if ex and ex.owner else ""
            name = f"{owner}{(ex.name if ex and ex.name else row.name) or '?'}"
            tags = ex.tags if ex and ex.tags else row.tags
            task = row.result.task_id if row.result and row.result.task_id else ""
            time = f"{row.result.duration_s:.1f}s" if row.result else "-"
            table.add(
                row.folder,
                name,
                Own(f"{_ICON.get(row.status, '')} {row.status}"),  # a closed set
                ", ".join(tags),
                ", ".join(row.platforms),
                task,
                Own(time),
            )
        lines.append(table.markdown())
        lines.append("")
        errors = [
            (row, row.result.error) for row in summary.rows if row.result and row.result.error
        ]
        for row, error in errors:
            lines.append(f"- {code(row.folder)}: {code(error, limit=1000)}")
        if errors:
            lines.append("")
        # a rehearsal's Hub is gone when the job ends: nothing there to use
        usage = [
            row.result.executor.docker_uri
            for row in summary.rows
            if summary.mode == "push"
            and row.status == "succeeded"
            and row.result
            and row.result.executor
        ]
        if any(usage):
            lines += ["Use it:", "", "```yaml"]
            lines += [f"uses: {flatten(uri).replace('`', '')}" for uri in usage if uri]
            lines += ["```", ""]
    findings = [(r, f) for r in summary.reports for f in r.findings if f.severity != Severity.INFO]
    if findings:
        lines += [f"<details><summary>{len(findings)} validation finding(s)</summary>", ""]
        for report, f in findings[:100]:
            where = f"{report.path}/{f.file}" if f.file else report.path
            if f.line:
                where += f":{f.line}"
            hint = f" ({f.hint})" if f.hint else ""
            lines.append(
                f"- **{f.severity.value}** {code(f.code)} {code(where)}: {code(f.message + hint)}"
            )
        if len(findings) > 100:
            lines.append(f"- … and {len(findings) - 100} more")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def rows_status(rows: Sequence[ExecutorRow]) -> str:
    """The run's status output: the worst of its executors'."""
    order = ("failed", "timeout", "submitted", "skipped", "succeeded", "unchanged", "validated")
    for status in order:
        if any(row.status == status for row in rows):
            return status
    return "failed"
