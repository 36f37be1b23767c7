"""push_many: three executors pushed concurrently to the local Hub, one failing; bounds, order,
validation first, errors isolated, exit code of the worst result."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubci.errors import (
    EXIT_FAILED,
    EXIT_HUB,
    EXIT_INTERNAL,
    EXIT_OK,
    HubError,
    UsageError,
    ValidationError,
)
from hubci.push.multi import (
    LogSink,
    PushOutcome,
    folder_labels,
    push_many,
    summary_markdown,
    summary_table,
    worst_exit_code,
)
from hubci.push.plan import PushOptions, PushPlan, resolve_plan
from hubci.push.render import PushReporter
from hubci.push.result import PushResult
from hubci.push.run import run_push
from hubci.server.embedded import HubHandle, embedded_hub

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-executor"
USER, TOKEN = "matrix", "matrix-token-0123456789"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    data = tmp_path_factory.mktemp("hub")
    with embedded_hub(data_dir=data, users={USER: TOKEN}, build_seconds=0.05) as handle:
        yield handle


def _executor(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(EXAMPLE, dest)
    config = (dest / "config.yml").read_text()
    (dest / "config.yml").write_text(config.replace("name: HelloExecutor", f"name: {name}"))
    return dest


def _plan(folder: Path, url: str, platform: str = "linux/amd64") -> PushPlan:
    options = PushOptions(path=folder, hub_url=url, token=TOKEN, platform=platform, tags=("v1",))
    return resolve_plan(options, {}, cwd=folder.parent)


def test_three_concurrent_pushes_one_failing(hub: HubHandle, tmp_path: Path) -> None:
    hub.add_fault("fail-build:linux/arm64")
    plans = [
        _plan(_executor(tmp_path, "alpha"), hub.url),
        _plan(_executor(tmp_path, "beta"), hub.url, platform="linux/arm64"),
        _plan(_executor(tmp_path, "gamma"), hub.url),
    ]
    together = threading.Barrier(3, timeout=60)  # breaks unless all three run at once

    def push(plan: PushPlan, reporter: PushReporter) -> PushResult:
        together.wait()
        return run_push(plan, reporter)

    out = io.StringIO()
    outcomes = push_many(plans, 3, sink=LogSink(out, github=True), push=push)
    hub.clear_faults()

    assert [o.plan.name for o in outcomes] == ["alpha", "beta", "gamma"]
    assert [o.result.status for o in outcomes] == ["succeeded", "failed", "succeeded"]
    assert [o.exit_code for o in outcomes] == [EXIT_OK, EXIT_FAILED, EXIT_OK], [
        o.result.error for o in outcomes
    ]
    assert worst_exit_code(outcomes) == EXIT_FAILED
    assert outcomes[0].result.executor is not None
    assert outcomes[0].result.executor.tags == ("v1",)
    assert outcomes[1].result.error is not None
    assert outcomes[1].result.error.startswith("the build failed: ")

    table = summary_table(outcomes)
    rows = table.splitlines()
    assert rows[0].split() == ["executor", "name", "status", "exit", "tags", "time", "result"]
    assert [r.split()[:4] for r in rows[1:4]] == [
        ["alpha", "alpha", "succeeded", "0"],
        ["beta", "beta", "failed", "1"],
        ["gamma", "gamma", "succeeded", "0"],
    ]
    assert rows[4] == "2 of 3 succeeded; exit code 1"
    assert "| `beta` | `beta` | failed | 1 | `v1` |" in summary_markdown(outcomes)

    log = out.getvalue()
    groups = sorted(line for line in log.splitlines() if line.startswith("::group::"))
    assert groups == [
        "::group::alpha: succeeded",
        "::group::beta: failed",
        "::group::gamma: succeeded",
    ]
    beta = log[log.index("::group::beta: failed") :]
    beta = beta[: beta.index("::endgroup::")]
    assert "uploading beta to " in beta
    assert "uploading alpha" not in beta
    assert beta.rstrip().splitlines()[-1] == f"error: {outcomes[1].result.error}"
    _assert_groups_do_not_interleave(log)
    assert TOKEN not in log


def _assert_groups_do_not_interleave(log: str) -> None:
    depth = 0
    for line in log.splitlines():
        if line.startswith("::group::"):
            assert depth == 0, "a group opened inside another"
            depth = 1
        elif line == "::endgroup::":
            assert depth == 1
            depth = 0
    assert depth == 0


def _offline_plans(tmp_path: Path, count: int) -> list[PushPlan]:
    return [_plan(_executor(tmp_path, f"e{i}"), "http://127.0.0.1:9") for i in range(count)]


def test_concurrency_is_bounded_and_order_kept(tmp_path: Path) -> None:
    plans = _offline_plans(tmp_path, 5)
    lock = threading.Lock()
    running, peak = 0, 0
    pair = threading.Barrier(2, timeout=60)

    def push(plan: PushPlan, reporter: PushReporter) -> PushResult:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if plan.name in ("e0", "e1"):
            pair.wait()  # the first two must overlap: jobs=2 really runs two at once
        reporter.line(f"pushing {plan.name}")
        with lock:
            running -= 1
        return PushResult(status="succeeded")

    out = io.StringIO()
    outcomes = push_many(plans, 2, sink=LogSink(out), push=push, validate_first=False)
    assert peak == 2
    assert [o.plan.name for o in outcomes] == ["e0", "e1", "e2", "e3", "e4"]
    assert worst_exit_code(outcomes) == EXIT_OK
    text = out.getvalue()
    for name in ("e0", "e1", "e2", "e3", "e4"):
        assert f"── {name}: succeeded\npushing {name}\n" in text


def test_errors_stay_with_their_executor(tmp_path: Path) -> None:
    plans = _offline_plans(tmp_path, 3)

    def push(plan: PushPlan, reporter: PushReporter) -> PushResult:
        if plan.name == "e0":
            raise HubError("the Hub answered 503 five times", hint="try again later")
        if plan.name == "e1":
            raise RuntimeError("boom")
        return PushResult(status="succeeded")

    outcomes = push_many(plans, 3, sink=LogSink(io.StringIO()), push=push, validate_first=False)
    assert [(o.result.status, o.exit_code) for o in outcomes] == [
        ("failed", EXIT_HUB),
        ("failed", EXIT_INTERNAL),
        ("succeeded", EXIT_OK),
    ]
    assert outcomes[0].result.error == "the Hub answered 503 five times (try again later)"
    assert outcomes[1].result.error == "internal error: RuntimeError: boom"
    assert worst_exit_code(outcomes) == EXIT_INTERNAL


def test_validation_errors_anywhere_push_nothing(tmp_path: Path) -> None:
    plans = _offline_plans(tmp_path, 3)
    (plans[1].folder / "config.yml").write_text("jtype: [broken\n")
    pushed: list[str] = []

    def push(plan: PushPlan, reporter: PushReporter) -> PushResult:
        pushed.append(plan.name)
        return PushResult(status="succeeded")

    out = io.StringIO()
    with pytest.raises(ValidationError) as info:
        push_many(plans, 2, sink=LogSink(out), push=push)
    assert pushed == []
    assert info.value.format_message() == (
        "1 of 3 executors have validation errors (e1); nothing was pushed "
        "(fix them (listed above), then push again)"
    )
    assert "── validate e1\n" in out.getvalue()


def test_same_folder_name_in_two_places_is_told_apart(tmp_path: Path) -> None:
    folders = [
        tmp_path / "team-a" / "encoder",
        tmp_path / "team-b" / "encoder",
        tmp_path / "solo",
        tmp_path / "x" / "same" / "enc",
        tmp_path / "y" / "same" / "enc",
    ]
    assert folder_labels(folders) == [
        "team-a/encoder",
        "team-b/encoder",
        "solo",
        "x/same/enc",
        "y/same/enc",
    ]
    plans = [
        _plan(_executor(tmp_path / "team-a", "encoder"), "http://127.0.0.1:9"),
        _plan(_executor(tmp_path / "team-b", "encoder"), "http://127.0.0.1:9"),
    ]
    (plans[1].folder / "config.yml").write_text("jtype: [broken\n")
    out = io.StringIO()
    with pytest.raises(ValidationError, match=r"\(team-b/encoder\); nothing was pushed"):
        push_many(plans, 2, sink=LogSink(out))
    assert "── validate team-b/encoder\n" in out.getvalue()


def test_worst_exit_code_ranking(tmp_path: Path) -> None:
    plan = _offline_plans(tmp_path, 1)[0]

    def outcome(code: int) -> PushOutcome:
        return PushOutcome(plan, PushResult(status="failed"), exit_code=code, duration_s=0)

    assert worst_exit_code([]) == 0
    assert worst_exit_code([outcome(0), outcome(4), outcome(1)]) == 1
    assert worst_exit_code([outcome(4), outcome(0)]) == 4
    assert worst_exit_code([outcome(2), outcome(3), outcome(1)]) == 3
    assert worst_exit_code([outcome(130), outcome(70)]) == 130


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        push_many(_offline_plans(tmp_path, 1), 0)
