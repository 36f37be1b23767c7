"""Push several executors with bounded concurrency: validate all first, then push, then summarise.

:func:`push_many` is what ``hubci push PATH...`` (and the Action's multi-folder ``path`` input)
calls once the plans are resolved:

1. every plan is validated first, each executor's findings grouped under its folder, so one run
   shows every problem; when any executor has errors nothing is pushed (exit 2, as for one
   executor);
2. the pushes then run on at most ``jobs`` worker threads. A failing push never stops the
   others; its error becomes that executor's outcome;
3. each executor's log is buffered and written as one block when its push ends (a
   ``::group::`` in GitHub Actions), so concurrent logs never interleave;
4. :func:`summary_table` lists every executor, and :func:`worst_exit_code` gives the run's exit
   code: the worst outcome, ranked ok < timeout < build failed < validation/usage <
   Hub/network < internal error < interrupted.

Workers are daemon threads: on Ctrl-C no new push starts, and hubci exits at once (builds that
were already uploaded go on at the Hub; ``hubci status PATH`` follows them).
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hubci.errors import (
    EXIT_FAILED,
    EXIT_HUB,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    HubciError,
    Interrupted,
    UsageError,
    ValidationError,
)
from hubci.output.reporter import Reporter
from hubci.output.table import Column, Own, Table
from hubci.push.plan import PushPlan
from hubci.push.render import PushReporter, TextReporter
from hubci.push.result import PushResult
from hubci.push.run import run_push, validate_plan

#: Exit codes from best to worst (anything unknown ranks just below "internal").
SEVERITY: tuple[int, ...] = (
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_FAILED,
    EXIT_USAGE,
    EXIT_HUB,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
)
#: How often the main thread wakes up while waiting (keeps Ctrl-C responsive).
WAIT_SLICE_SECONDS = 0.2

PushFn = Callable[[PushPlan, PushReporter], PushResult]


@dataclass(frozen=True)
class PushOutcome:
    """One executor's result; ``result`` exists even when the push raised (status failed)."""

    plan: PushPlan
    result: PushResult
    exit_code: int
    duration_s: float
    log: str = ""  # the executor's buffered log (already redacted)

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


class GroupedReporter(TextReporter):
    """A TextReporter that writes into a buffer, to be shown as one block when the push ends."""

    def __init__(self, plan: PushPlan) -> None:
        self.buffer = io.StringIO()
        super().__init__(verbose=plan.verbose, err=self.buffer, tty=False)

    def text(self) -> str:
        return self.buffer.getvalue()


#: Where push_many writes each executor's log: the one reporter (a group per executor).
LogSink = Reporter


def folder_labels(folders: Sequence[Path]) -> list[str]:
    """How each executor is named in logs and tables: its folder name, or as many trailing path
    parts as it takes to tell it apart (``team-a/encoder`` and ``team-b/encoder``)."""
    labels: list[str] = []
    for folder in folders:
        depth = 1
        while depth < len(folder.parts) and any(
            other != folder and other.parts[-depth:] == folder.parts[-depth:] for other in folders
        ):
            depth += 1
        labels.append("/".join(folder.parts[-depth:]))
    return labels


def rank(code: int) -> int:
    return SEVERITY.index(code) if code in SEVERITY else SEVERITY.index(EXIT_INTERNAL) - 1


def worst_exit_code(outcomes: Sequence[PushOutcome]) -> int:
    codes = [o.exit_code for o in outcomes] or [EXIT_OK]
    return max(codes, key=rank)


def validate_all(plans: Sequence[PushPlan], sink: LogSink) -> None:
    """Validate every plan (findings grouped per executor); raise when any has errors."""
    failed: list[str] = []
    for plan, label in zip(plans, folder_labels([p.folder for p in plans]), strict=True):
        reporter = GroupedReporter(plan)
        try:
            validate_plan(plan, reporter)
        except ValidationError:
            failed.append(label)
        text = reporter.text()
        if text:
            sink.block(f"validate {label}", text)
    if failed:
        raise ValidationError(
            f"{len(failed)} of {len(plans)} executors have validation errors "
            f"({', '.join(failed)}); nothing was pushed",
            hint="fix them (listed above), then push again",
        )


def _outcome(
    plan: PushPlan, push: PushFn, reporter: PushReporter, stop: threading.Event
) -> PushOutcome:
    started = time.monotonic()
    code: int
    if stop.is_set():
        result = PushResult(status="failed", error="not started: the run was interrupted")
        code = EXIT_INTERRUPTED
    else:
        try:
            result = push(plan, reporter)
            code = result.exit_code
        except HubciError as exc:
            result = PushResult(status="failed", error=exc.format_message())
            code = exc.exit_code
        except Exception as exc:  # a bug must not take the other pushes down with it
            error = f"internal error: {type(exc).__name__}: {exc}"
            result = PushResult(status="failed", error=error)
            code = EXIT_INTERNAL
    log = reporter.text() if isinstance(reporter, GroupedReporter) else ""
    return PushOutcome(plan, result, code, time.monotonic() - started, log)


def push_many(
    plans: Sequence[PushPlan],
    jobs: int,
    reporter_factory: Callable[[PushPlan], PushReporter] = GroupedReporter,
    *,
    sink: LogSink | None = None,
    validate_first: bool = True,
    push: PushFn = run_push,
) -> list[PushOutcome]:
    """Push every plan, at most ``jobs`` at a time; outcomes in the order of ``plans``.

    Raises ValidationError (nothing pushed) when ``validate_first`` finds errors, UsageError
    for ``jobs < 1``, and Interrupted on Ctrl-C.
    """
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} must be at least 1")
    sink = sink or LogSink()
    if validate_first:
        validate_all(plans, sink)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(plans)):
        todo.put(index)
    outcomes: list[PushOutcome | None] = [None] * len(plans)
    labels = folder_labels([p.folder for p in plans])
    done = threading.Semaphore(0)
    stop = threading.Event()

    def worker() -> None:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            plan = plans[index]
            outcome = _outcome(plan, push, reporter_factory(plan), stop)
            outcomes[index] = outcome
            if not stop.is_set():
                text = outcome.log
                if not outcome.ok and outcome.result.error:
                    text += f"error: {outcome.result.error}\n"
                sink.block(f"{labels[index]}: {outcome.result.status}", text)
            done.release()

    for n in range(min(jobs, len(plans))):
        threading.Thread(target=worker, name=f"hubci-push-{n}", daemon=True).start()
    try:
        for _ in plans:
            while not done.acquire(timeout=WAIT_SLICE_SECONDS):
                pass
    except KeyboardInterrupt:
        stop.set()
        running = sum(o is None for o in outcomes)
        raise Interrupted(
            f"interrupted with {running} push(es) unfinished; builds already uploaded go on at "
            "the Hub (follow them with `hubci status PATH`)"
        ) from None
    return [o for o in outcomes if o is not None]


def _detail(outcome: PushOutcome) -> str:
    ex = outcome.result.executor
    if outcome.ok and ex is not None:
        return ex.uri or ex.id or ""
    return outcome.result.error or ""


def summary(outcomes: Sequence[PushOutcome]) -> Table:
    """One row per executor: its label, name, status, exit code, tags, time and result."""
    table = Table(
        [
            Column("executor"),
            Column("name"),
            Column("status"),
            Column("exit"),
            Column("tags"),
            Column("time"),
            Column("result", empty=""),
        ]
    )
    labels = folder_labels([o.plan.folder for o in outcomes])
    for o, label in zip(outcomes, labels, strict=True):
        ex = o.result.executor
        tags = ", ".join(ex.tags if ex is not None and ex.tags else o.plan.tags)
        table.add(
            label,
            o.plan.name,
            Own(o.result.status),
            Own(str(o.exit_code)),
            tags,
            Own(f"{o.duration_s:.1f}s"),
            _detail(o),
        )
    return table


def summary_table(outcomes: Sequence[PushOutcome]) -> str:
    """The summary as aligned text, and a closing count line."""
    good = sum(o.ok for o in outcomes)
    unchanged = sum(o.result.status == "unchanged" for o in outcomes)
    again = f" ({unchanged} unchanged: not uploaded or built again)" if unchanged else ""
    count = f"{good} of {len(outcomes)} succeeded{again}; exit code {worst_exit_code(outcomes)}"
    return summary(outcomes).text() + "\n" + count


def summary_markdown(outcomes: Sequence[PushOutcome]) -> str:
    return "### Executor pushes\n\n" + summary(outcomes).markdown() + "\n"
