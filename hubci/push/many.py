"""``hubci push PATH...`` with several executor folders: one plan per folder, pushed by
:func:`hubci.push.multi.push_many` (validate all first, bounded concurrency, grouped logs).

With ``--hub local`` one embedded local Hub serves every push of the run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hubci.errors import UsageError
from hubci.push.multi import LogSink, PushOutcome, push_many, worst_exit_code
from hubci.push.plan import PushOptions, PushPlan, default_local_data_dir, resolve_plan


def is_single(items: Sequence[str]) -> bool:
    """One plain path (no glob pattern): the single-executor push."""
    return len(items) == 1 and not any(ch in items[0] for ch in "*?[")


@contextmanager
def _shared_hub(base: PushOptions) -> Iterator[PushOptions]:
    """``--hub local``: start one embedded Hub for all pushes and point every plan at it."""
    if base.hub != "local":
        yield base
        return
    from hubci.server.embedded import embedded_hub

    data_dir = default_local_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_hub(data_dir=data_dir) as handle:
        yield dataclasses.replace(
            base, hub=None, hub_url=handle.url, token=base.token or handle.default_token
        )


def plans_for(
    base: PushOptions, folders: Sequence[Path], env: Mapping[str, str], cwd: Path
) -> list[PushPlan]:
    if base.name is not None or base.force_update is not None:
        flag = "--name" if base.name is not None else "--force-update"
        msg = f"{flag} names one executor, but {len(folders)} folders were given"
        raise UsageError(msg, "push them one at a time, or drop the option")
    return [resolve_plan(dataclasses.replace(base, path=f), env, cwd=cwd) for f in folders]


def run_many(
    base: PushOptions, items: Sequence[str], jobs: int, *, cwd: Path | None = None
) -> tuple[list[PushOutcome], int]:
    """Expand ``items`` (paths and glob patterns), push every folder; (outcomes, exit code)."""
    from hubci.executor.paths import expand_paths

    env = dict(os.environ)
    cwd = cwd or Path.cwd()
    folders = expand_paths(items, cwd)
    sink = LogSink(github=bool(env.get("GITHUB_ACTIONS")))
    with _shared_hub(base) as options:
        plans = plans_for(options, folders, env, cwd)
        outcomes = push_many(plans, jobs, sink=sink)
    return outcomes, worst_exit_code(outcomes)


def outcomes_json(outcomes: Sequence[PushOutcome], exit_code: int) -> dict[str, Any]:
    """``--format json`` for several executors: each result (push JSON schema) with its path."""
    results = []
    for o in outcomes:
        results.append(
            {"path": str(o.plan.folder), "name": o.plan.name, "exit_code": o.exit_code}
            | o.result.to_json()
        )
    return {"results": results, "exit_code": exit_code}
