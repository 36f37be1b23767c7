"""``hubci status``: follow a build task to its end, with an exit code that says how it ended.

Like ``jina hub status`` (listAsyncTasks for the folder's executor when no ``--id``, then
queryProgress), but an unfinished build is never exit 0: 0 succeeded, 1 failed, 4 timed out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hubci import rules
from hubci.errors import HubciError, HubError, Interrupted, UsageError
from hubci.hub.client import HubClient, Timeouts
from hubci.hub.errors import DeadlineReached
from hubci.hub.follow import Follower
from hubci.hub.records import ExecutorDocument, Task
from hubci.hub.retry import RetryPolicy
from hubci.push.plan import (
    HubTarget,
    Output,
    default_local_data_dir,
    resolve_hub,
    resolve_token,
)
from hubci.push.render import PushReporter
from hubci.push.result import ExecutorInfo, PushResult, built_platforms, failure_message
from hubci.secret import Secret


@dataclass(frozen=True)
class StatusPlan:
    hub: HubTarget
    token: Secret | None
    name: str | None
    task_id: str | None
    replay: bool
    verbose: bool
    timeout: float | None
    output: Output
    local_data_dir: Path | None = None


@dataclass(frozen=True)
class StatusOptions:
    """What ``hubci status`` was given, as typed (the command only fills this record)."""

    path: Path | None = None
    task_id: str | None = None
    name: str | None = None
    replay: bool = False
    verbose: bool = False
    hub: str | None = None
    hub_url: str | None = None
    token: str | None = None
    timeout: float = rules.DEFAULT_TIMEOUT_SECONDS
    output: Output = "text"


def resolve_status(options: StatusOptions, env: Mapping[str, str] | None = None) -> StatusPlan:
    env = dict(os.environ) if env is None else env
    task_id = options.task_id
    target = resolve_hub(options.hub, options.hub_url, env)
    secret, _ = resolve_token(options.token, env, target)
    resolved_name = options.name
    if task_id is None and resolved_name is None:
        folder = options.path or Path()
        if not folder.is_dir():
            msg = f"{folder} is not a directory"
            raise UsageError(msg, "give an executor folder, or the task with --id TASK")
        from hubci.executor.config import resolve_name

        resolved_name, _ = resolve_name(folder.resolve(), None)
        if not resolved_name:
            msg = f"cannot tell the executor's name for {folder}"
            raise UsageError(msg, "pass --id TASK or --name NAME, or set metas.name in config.yml")
    return StatusPlan(
        hub=target,
        token=secret,
        name=resolved_name,
        task_id=task_id,
        replay=options.replay,
        verbose=options.verbose,
        timeout=options.timeout or None,
        output=options.output,
        local_data_dir=default_local_data_dir() if target.local else None,
    )


def _task_of(client: HubClient, task_id: str, executor: ExecutorDocument | None) -> Task | None:
    """Task ``task_id`` from the executor's task list (for its platforms); None if not listed."""
    name = executor.name if executor is not None else None
    if not name:
        return None
    try:
        tasks = client.list_tasks(name)
    except HubciError:
        return None
    return next((t for t in tasks if t.id == task_id), None)


def run_status(
    plan: StatusPlan,
    reporter: PushReporter,
    *,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    from hubci.push.plan import require_token
    from hubci.push.run import hub_endpoint

    require_token(plan.hub, plan.token)
    start = time.monotonic()
    deadline = None if plan.timeout is None else start + plan.timeout
    task_id = plan.task_id  # known once found; named in the timeout result
    try:
        with hub_endpoint(plan.hub, plan.token, plan.local_data_dir, reporter) as (url, token):
            client = HubClient(
                url,
                token,
                timeouts=timeouts or Timeouts(),
                retry=retry or RetryPolicy(),
                log=reporter.line,
                deadline=deadline,  # every call, whoami's retries too, ends by --timeout
            )
            with client:
                # Fails fast (exit 3) on a wrong URL or token; following alone would keep
                # reconnecting until --timeout, as it should once a build is known to exist.
                client.whoami()
                task_id = plan.task_id
                task: Task | None = None
                if task_id is None:
                    assert plan.name is not None
                    tasks = client.list_tasks(plan.name, page_size=1)
                    found = tasks[0].id if tasks else None
                    if found is None:
                        msg = f"no build task found for {plan.name}"
                        raise HubError(
                            msg, "push it first, or use the token of the user who pushed it"
                        )
                    task_id, task = found, tasks[0]
                reporter.line(f"following task {task_id}")
                follower = Follower(
                    client, plan.verbose, reporter.build_event, deadline, reporter.line, sleep
                )
                try:
                    terminal = follower.task(task_id, replay=plan.replay)
                except KeyboardInterrupt:
                    msg = "interrupted; the build goes on at the Hub"
                    raise Interrupted(
                        msg, f"follow it with `hubci status --id {task_id}`"
                    ) from None
                executor = ExecutorDocument.from_json(terminal.executor)
                if task is None and terminal.status == "succeeded":
                    task = _task_of(client, task_id, executor)
                return PushResult(
                    status=terminal.status,
                    task_id=task_id,
                    executor=ExecutorInfo.from_document(executor, platforms=built_platforms(task)),
                    duration_s=time.monotonic() - start,
                    error=failure_message(terminal),
                    stage=terminal.stage,
                    warnings=follower.state.warnings,
                    session_id=client.session_id,
                )
    except DeadlineReached:  # in any phase: whoami, finding the task, following it
        again = f"`hubci status --id {task_id}`" if task_id else "`hubci status`"
        return PushResult(
            status="timeout",
            task_id=task_id,
            duration_s=time.monotonic() - start,
            error=(
                f"no result within --timeout {plan.timeout:g}s; the build may still "
                f"finish: run {again} again"
            ),
        )
    except KeyboardInterrupt:
        raise Interrupted("interrupted before the build's task was found") from None
