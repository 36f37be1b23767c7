"""Every fault of the local Hub's --fault list, survived or reported as it should be."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubci.errors import AuthError, HubError
from hubci.hub.client import Timeouts
from hubci.hub.follow import BuildEvent
from hubci.hub.retry import RetryPolicy
from hubci.push.plan import PushOptions, PushPlan, resolve_plan
from hubci.push.result import PushResult
from hubci.push.run import run_push
from hubci.server.embedded import HubHandle
from tests.push.conftest import TOKEN


@dataclass
class Recorder:
    lines: list[str] = field(default_factory=list)
    events: list[BuildEvent] = field(default_factory=list)
    progress: list[tuple[int, int]] = field(default_factory=list)

    def line(self, text: str) -> None:
        self.lines.append(text)

    def upload_progress(self, sent: int, total: int) -> None:
        self.progress.append((sent, total))

    def build_event(self, event: BuildEvent) -> None:
        self.events.append(event)


@dataclass
class Pushed:
    result: PushResult
    rec: Recorder
    waits: list[float]


def _plan(hub: HubHandle, executor: Path, **kw: object) -> PushPlan:
    options = PushOptions(path=executor, hub_url=hub.url, token=TOKEN, **kw)  # type: ignore[arg-type]
    return resolve_plan(options, {}, cwd=executor.parent)


def _push(hub: HubHandle, executor: Path, stall: float = 30, **kw: object) -> Pushed:
    waits: list[float] = []
    rec = Recorder()
    result = run_push(
        _plan(hub, executor, **kw),
        rec,
        retry=RetryPolicy(sleep=waits.append, jitter=0),
        timeouts=Timeouts(connect=5, read=30, stall=stall),
        sleep=waits.append,
    )
    return Pushed(result, rec, waits)


@pytest.mark.parametrize("code", [502, 503, 504, 429])
def test_upload_status_is_retried(hub: HubHandle, executor: Path, code: int) -> None:
    hub.add_fault(f"upload-status:{code}:2")
    pushed = _push(hub, executor)
    assert pushed.result.status == "succeeded", pushed.rec.lines
    retries = [line for line in pushed.rec.lines if line.startswith("attempt ")]
    assert retries == [
        f"attempt 2/5 in {pushed.waits[0]:.1f}s: HTTP {code} from executor.push",
        f"attempt 3/5 in {pushed.waits[1]:.1f}s: HTTP {code} from executor.push",
    ]
    if code in (429, 503):  # the local Hub sends Retry-After: 1 with these
        assert pushed.waits[:2] == [1.0, 1.0]


def test_other_4xx_fail_at_once_with_the_servers_message(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("upload-status:400:1")
    with pytest.raises(HubError, match=r"rejected executor.push \(HTTP 400\)") as info:
        _push(hub, executor)
    assert info.value.exit_code == 3


def test_upload_retries_are_bounded(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("upload-status:503:10")
    with pytest.raises(HubError, match=r"HTTP 503 from executor\.push, still failing after 5"):
        _push(hub, executor)


def test_upload_reset_mid_body_is_retried(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("upload-reset:1")
    pushed = _push(hub, executor)
    assert pushed.result.status == "succeeded", pushed.rec.lines
    assert any(
        line.startswith("attempt 2/5") and "from executor.push" in line for line in pushed.rec.lines
    ), pushed.rec.lines


def test_whoami_status_is_retried_or_refused(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("whoami-status:503:1")
    pushed = _push(hub, executor)
    assert pushed.result.status == "succeeded"
    assert any("HTTP 503 from user.identity.whoami" in line for line in pushed.rec.lines)
    hub.add_fault("whoami-status:401:1")
    with pytest.raises(AuthError, match=r"refused the token on user\.identity\.whoami"):
        _push(hub, executor)


@pytest.mark.parametrize("cut", [0, 1, 3])
def test_stream_cut_follows_the_task_and_shows_each_line_once(
    hub: HubHandle, executor: Path, cut: int
) -> None:
    hub.add_fault(f"stream-cut:{cut}")
    pushed = _push(hub, executor, verbose=True)
    assert pushed.result.status == "succeeded", pushed.rec.lines
    assert pushed.result.task_id is not None
    assert f"following task {pushed.result.task_id}" in pushed.rec.lines
    shown = [(e.kind, e.subject, e.text) for e in pushed.rec.events if e.kind != "status"]
    clean = _push(hub, executor, verbose=True, no_cache=True)  # built again, not reused
    assert clean.result.status == "succeeded"
    expected = [(e.kind, e.subject, e.text) for e in clean.rec.events if e.kind != "status"]
    assert len(expected) > 3
    assert shown == expected


def test_fail_build_is_a_failed_result(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("fail-build:linux/amd64")
    pushed = _push(hub, executor, platform="linux/amd64")
    assert pushed.result.status == "failed"
    assert pushed.result.exit_code == 1
    assert pushed.result.error is not None
    assert pushed.result.error.startswith("the build failed: ")


def test_slow_build_times_out_with_exit_4_and_says_how_to_follow(
    hub: HubHandle, executor: Path
) -> None:
    hub.add_fault("slow-build:5")
    pushed = _push(hub, executor, timeout=1.0)
    assert pushed.result.status == "timeout"
    assert pushed.result.exit_code == 4
    assert pushed.result.task_id is not None
    assert f"hubci status --id {pushed.result.task_id}" in (pushed.result.error or "")


def test_a_stalled_stream_is_followed_through_the_task(hub: HubHandle, executor: Path) -> None:
    hub.add_fault("slow-build:0.5")  # each build step is silent for half a second
    pushed = _push(hub, executor, stall=0.2)
    assert pushed.result.status == "succeeded", pushed.rec.lines
    assert "the push stream stalled; following the build through its task" in pushed.rec.lines
    assert any(line.startswith("reconnecting to task ") for line in pushed.rec.lines)
    stages = [(e.subject, e.text) for e in pushed.rec.events if e.kind == "stage"]
    assert len(stages) == len(set(stages)), stages  # replays never repeat a line
    assert stages[0] == ("createExecutor", "init")
    assert stages[-1] == ("pushImage", "done")
