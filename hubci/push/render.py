"""Push output: progress and build lines on stderr, one final result on stdout.

Everything is written through :class:`hubci.output.console.Console`, which masks every secret of
the run (token, executor secret, build-env values) and neutralises what a Hub or a build sends,
so even a Hub that echoes a value in a build log or an error message cannot make hubci print it,
and a build log line cannot act as a workflow command.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from hubci.errors import HubciError
from hubci.output.console import Console
from hubci.output.sizes import human_size

if TYPE_CHECKING:
    from hubci.findings import Finding
    from hubci.hub.follow import BuildEvent
    from hubci.push.plan import PushPlan
    from hubci.push.result import PushResult


class PushReporter(Protocol):
    """What run_push tells its caller while it works (the CLI and the Action implement it)."""

    def line(self, text: str) -> None: ...
    def upload_progress(self, sent: int, total: int) -> None: ...
    def build_event(self, event: BuildEvent) -> None: ...


class TextReporter:
    """stderr reporter: a progress bar on a TTY, 10% steps otherwise; console lines if verbose."""

    def __init__(
        self,
        *,
        verbose: bool = False,
        err: TextIO | None = None,
        tty: bool | None = None,
    ) -> None:
        self.console = Console(stderr=err)
        self.verbose = verbose
        stream = err if err is not None else sys.stderr
        self.tty = stream.isatty() if tty is None else tty
        self._last_step = -1
        self._bar_open = False

    def _write(self, text: str) -> None:
        if self._bar_open:
            self.console.err("")
            self._bar_open = False
        self.console.err(text)

    def line(self, text: str) -> None:
        self._write(text)

    def upload_progress(self, sent: int, total: int) -> None:
        total = max(total, 1)
        percent = min(100, sent * 100 // total)
        if self.tty:
            step = percent
            if step == self._last_step:
                return
            self._last_step = step
            filled = percent * 30 // 100
            bar = "#" * filled + "-" * (30 - filled)
            self.console.err(
                f"\rupload [{bar}] {percent:3d}% {human_size(sent)}/{human_size(total)}", nl=False
            )
            self._bar_open = percent < 100
            if percent == 100:
                self.console.err("")
            return
        step = percent // 10
        if step == self._last_step:
            return
        self._last_step = step
        self._write(f"upload {step * 10}% ({human_size(sent)} of {human_size(total)})")

    def reset_progress(self) -> None:
        self._last_step = -1

    def build_event(self, event: BuildEvent) -> None:
        if event.kind == "console":
            if self.verbose:
                self._write(f"  | {event.text}")
            return
        if event.kind == "warning":
            self._write(f"warning: {event.text}")
        elif event.kind == "status":
            self._write(f"build task: {event.text}")
        else:
            self._write(f"build: {event.subject} {event.text}".rstrip())

    def findings(self, findings: Iterable[Finding], folder: str) -> None:
        for f in findings:
            where = f"{folder}/{f.file}" if f.file else folder
            if f.line:
                where += f":{f.line}"
            hint = f" ({f.hint})" if f.hint else ""
            self._write(f"{where}: {f.severity.value}: {f.code} {f.message}{hint}")


def plan_summary(plan: PushPlan, bundle: dict[str, Any], files: list[tuple[str, int]]) -> str:
    """The --dry-run text: what would be sent, with build-env names only."""
    origins = dict(plan.tag_origins)
    pad = "\n" + " " * 16

    def listed(tags: tuple[str, ...], empty: str) -> str:
        width = max((len(t) for t in tags), default=0)
        return pad.join(f"{t:<{width}}  from {origins.get(t, '?')}" for t in tags) or empty

    tags = listed(plan.tags, "-" if plan.protected_tags else "(Hub default: latest)")
    protected = listed(plan.protected_tags, "-")
    token = f"set (from {plan.token_source})" if plan.token else "none"
    if plan.hub.local:
        token = "the local Hub's own"
    visibility = plan.visibility or "Hub default (public on first push, else unchanged)"
    namespace = "local" if plan.hub.local else "the token's user"
    lines = [
        "dry run: nothing is sent",
        f"hub:            {plan.hub.describe()} (from {plan.hub.source})",
        f"endpoint:       {'executor.update' if plan.secret else 'executor.push'}",
        f"name:           {plan.name} (from {plan.name_source})",
        f"namespace:      {namespace}",
        f"visibility:     {visibility}",
        f"tags:           {tags}",
        f"protected tags: {protected}",
        f"platforms:      {', '.join(plan.platforms) or 'Hub default'}",
        f"build env:      {', '.join(sorted(plan.build_env)) or '-'}",
        f"dockerfile:     {plan.dockerfile or 'Dockerfile if present, else generated by the Hub'}",
        f"token:          {token}",
        f"bundle:         {bundle['files']} files, {human_size(bundle['size'])}, "
        f"md5 {bundle['md5']}",
    ]
    if plan.verbose:
        lines += [f"  {size:>12,d}  {path}" for path, size in files]
    return "\n".join(lines)


def plan_json(
    plan: PushPlan, bundle: dict[str, Any], files: list[tuple[str, int]]
) -> dict[str, Any]:
    return {
        "status": "dry-run",
        "hub": plan.hub.describe(),
        "endpoint": "executor.update" if plan.secret else "executor.push",
        "name": plan.name,
        "name_source": plan.name_source,
        "visibility": plan.visibility,
        "tags": [{"tag": t, "from": dict(plan.tag_origins).get(t)} for t in plan.tags],
        "protected_tags": [
            {"tag": t, "from": dict(plan.tag_origins).get(t)} for t in plan.protected_tags
        ],
        "platforms": list(plan.platforms),
        "build_env": sorted(plan.build_env),
        "dockerfile": plan.dockerfile,
        "bundle": bundle,
        "files": [{"path": p, "size": s} for p, s in files] if plan.verbose else None,
    }


def result_text(result: PushResult) -> str:
    ex = result.executor
    if result.status == "succeeded" and ex is not None:
        lines = [f"succeeded: {ex.owner + '/' if ex.owner else ''}{ex.name or ex.id} ({ex.id})"]
        lines.append(f"  visibility: {ex.visibility}")
        lines.append(f"  tags:       {', '.join(ex.tags) or '-'}")
        if ex.platforms:
            lines.append(f"  platforms:  {', '.join(ex.platforms)}")
        if ex.uri:
            lines.append(f"  use:        {ex.uri}")
        if ex.docker_uri:
            lines.append(f"  docker:     {ex.docker_uri}")
        lines.append(f"  task:       {result.task_id or '-'}  ({result.duration_s:.1f}s)")
        return "\n".join(lines)
    if result.status == "submitted":
        return (
            f"submitted: task {result.task_id} (follow it with `hubci status --id "
            f"{result.task_id}`)"
        )
    text = f"{result.status}: {result.error or ''}".rstrip(": ")
    if result.status == "failed" and result.task_id:
        text += (
            f"\n  task:       {result.task_id}  (its log: `hubci status --id {result.task_id} "
            "--replay --verbose`)"
        )
    return text


@contextmanager
def json_on_error(output: str) -> Iterator[None]:
    """With ``--format json``, a push or status that stops with an error (Hub or network,
    validation, interruption) still prints one result object: status failed and the one-line
    error. The error then propagates (its exit code and stderr line unchanged)."""
    started = time.monotonic()
    try:
        yield
    except HubciError as exc:
        if output == "json":
            from hubci.push import result

            failed = result.PushResult(
                status="failed",
                duration_s=time.monotonic() - started,
                error=exc.format_message(),
            )
            Console().json(failed.to_json())
        raise
