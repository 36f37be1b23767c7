"""Every network wait of the Hub client holds against a misbehaving Hub (testing/hostile_hub.py).

The real CLI runs as a child of a tiny wrapper that reports the child's exit code and peak RSS:
whatever the Hub does (silence, drips, garbage, a 50 MB line, a 2 GiB chunk, a gzip bomb),
``hubci push`` and ``hubci status`` end by ``--timeout`` (exit 4, the usual timeout result), in
bounded memory, without a traceback; redirects fail at once (exit 3), and neither the token nor
the upload goes to the redirect's origin. Then the pieces: the watchdog, the bounded body reader,
the per-call cap and the stall timer of streams.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hubci.errors import HubError
from hubci.hub.client import HubClient, Timeouts
from hubci.hub.errors import DeadlineReached, StreamBroken, origin_of
from hubci.hub.follow import BuildEvent, Follower
from hubci.hub.records import User
from hubci.hub.retry import RetryPolicy
from hubci.netguard import (
    BodyRefused,
    GuardedAdapter,
    Watchdog,
    check_encoding,
    guard,
    iter_body,
    read_body,
)
from hubci.secret import Secret
from testing.hostile_hub import TASK_ID, HostileHub, gzip_bomb

TIMEOUT = 3
#: A correctness bound, not a speed target: startup, the deadline, a last lookup, exit.
SLACK = 20
MAX_RSS_MB = 250
TOKEN = "hostile-token-3e9d1c7a"
PUSH = "executor.push"
PROGRESS = "executor.queryProgress"
WHOAMI = "user.identity.whoami"
PACKAGE = "executor.getPackage"
LIST = "executor.listAsyncTasks"
#: Answers that never arrive: the upload phase of a push.
HEAD_MODES = ["silent", "drip-headers"]
#: Answers whose body misbehaves: the stream phase of a push, or a progress stream.
BODY_MODES = ["drip-body", "drip-chunked", "huge-chunk", "garbage", "big-line", "gzip-bomb"]

#: Runs argv[2:], then writes its exit code and peak RSS (KiB on Linux) to argv[1].
WRAPPER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "maxrss_kib": usage.ru_maxrss}, out)
"""

Start = Callable[..., HostileHub]


@pytest.fixture
def hostile() -> Iterator[Start]:
    """``hostile(mode, target, redirect_to=None)`` starts a HostileHub; all are stopped after the
    test, also when it fails."""
    started: list[HostileHub] = []

    def start(
        mode: str,
        target: str = "",
        redirect_to: str | None = None,
        *,
        body: bytes = b"",
        encoding: str | None = None,
    ) -> HostileHub:
        hub = HostileHub(mode, target, redirect_to=redirect_to, body=body, encoding=encoding)
        hub.start()
        started.append(hub)
        return hub

    yield start
    errors: list[Exception] = []
    for hub in reversed(started):
        try:
            hub.stop()
        except RuntimeError as exc:  # pragma: no cover - reported after all are stopped
            errors.append(exc)
    if errors:  # pragma: no cover
        raise errors[0]


@dataclass
class CliRun:
    code: int
    out: str
    err: str
    seconds: float
    rss_mb: float


def run_hubci(tmp_path: Path, *args: str) -> CliRun:
    """``python -m hubci ARGS`` under the wrapper; killed (and failed) past a generous bound."""
    report = tmp_path / "rusage.json"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    argv = [sys.executable, "-c", WRAPPER, str(report), sys.executable, "-m", "hubci", *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: wrapper and hubci die together
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT + SLACK + 30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"hubci {' '.join(args)} still ran after {TIMEOUT + SLACK + 30}s:\n{err}")
    seconds = time.monotonic() - started
    usage = json.loads(report.read_text())
    return CliRun(usage["code"], out, err, seconds, usage["maxrss_kib"] / 1024)


def push(tmp_path: Path, executor: Path, hub: HostileHub, *extra: str) -> CliRun:
    args = ("push", str(executor), "--hub-url", hub.url, "--token", TOKEN, *extra)
    return run_hubci(tmp_path, *args, "--timeout", str(TIMEOUT))


def status(tmp_path: Path, hub: HostileHub, *select: str) -> CliRun:
    args = ("status", *(select or ("--id", TASK_ID)), "--hub-url", hub.url, "--token", TOKEN)
    return run_hubci(tmp_path, *args, "--timeout", str(TIMEOUT))


def assert_bounded(run: CliRun) -> None:
    assert run.seconds < TIMEOUT + SLACK, run.err
    assert run.rss_mb < MAX_RSS_MB, f"peak RSS {run.rss_mb:.0f} MB"
    assert "Traceback" not in run.err, run.err
    assert TOKEN not in run.out + run.err


def assert_timed_out(run: CliRun, follow: str | None) -> None:
    """Exit 4 by the deadline; ``follow`` is how the report says to follow the build (None:
    no build can have started)."""
    assert run.code == 4, run.out + run.err
    assert_bounded(run)
    expected = (
        f"timeout: no result within --timeout {TIMEOUT}s; the build may still finish: {follow}"
        if follow is not None
        else f"timeout: no result within --timeout {TIMEOUT}s: the upload did not finish, so no "
        "build started; push again (with a longer --timeout)"
    )
    assert run.out.strip().splitlines()[0] == expected, run.out


# -- the CLI against a hostile Hub ----------------------------------------------------------


def test_the_harness_pushes_and_follows_against_a_normal_hub(
    tmp_path: Path, executor: Path, hostile: Start
) -> None:
    hub = hostile("normal")
    pushed = push(tmp_path, executor, hub)
    followed = status(tmp_path, hub)
    assert (pushed.code, followed.code) == (0, 0), pushed.err + followed.err
    assert_bounded(pushed)
    assert_bounded(followed)
    assert {s.headers["accept-encoding"] for s in hub.requests} == {"gzip, deflate"}


@pytest.mark.parametrize("mode", HEAD_MODES)
def test_push_upload_phase_ends_by_the_deadline(
    tmp_path: Path, executor: Path, hostile: Start, mode: str
) -> None:
    hub = hostile(mode, PUSH)
    run = push(tmp_path, executor, hub)
    # the Hub lists this push's task, so the report names it
    assert_timed_out(run, f"follow it with `hubci status --id {TASK_ID}`")
    assert [s.method for s in hub.requests][:3] == [WHOAMI, PACKAGE, PUSH]


@pytest.mark.parametrize("mode", BODY_MODES)
def test_push_stream_phase_ends_by_the_deadline(
    tmp_path: Path, executor: Path, hostile: Start, mode: str
) -> None:
    hub = hostile(mode, PUSH)
    run = push(tmp_path, executor, hub)
    assert_timed_out(run, f"follow it with `hubci status --id {TASK_ID}`")
    uploads = [s for s in hub.requests if s.method == PUSH]
    assert len(uploads) == 1
    assert uploads[0].body_size  # the whole upload arrived: the stream phase was reached


@pytest.mark.parametrize("mode", HEAD_MODES + BODY_MODES)
def test_status_ends_by_the_deadline(tmp_path: Path, hostile: Start, mode: str) -> None:
    hub = hostile(mode, PROGRESS)
    run = status(tmp_path, hub)
    assert_timed_out(run, f"run `hubci status --id {TASK_ID}` again")
    assert PROGRESS in [s.method for s in hub.requests]


@pytest.mark.parametrize(("command", "mode"), [("status", "silent"), ("push", "drip-body")])
def test_whoami_is_bounded_by_the_deadline(
    tmp_path: Path, executor: Path, hostile: Start, command: str, mode: str
) -> None:
    hub = hostile(mode, WHOAMI)
    if command == "status":
        run = status(tmp_path, hub)
        assert_timed_out(run, f"run `hubci status --id {TASK_ID}` again")
    else:
        run = push(tmp_path, executor, hub)
        assert_timed_out(run, None)  # nothing was uploaded: no build to follow
    assert PUSH not in [s.method for s in hub.requests]


@pytest.mark.parametrize("mode", ["silent", "drip-headers", "drip-body"])
def test_asking_whether_the_build_exists_is_bounded_by_the_deadline(
    tmp_path: Path, executor: Path, hostile: Start, mode: str
) -> None:
    """The unchanged check (executor.getPackage) runs before the upload: a Hub that stalls
    there ends the push by --timeout, with nothing uploaded."""
    hub = hostile(mode, PACKAGE)
    run = push(tmp_path, executor, hub)
    assert_timed_out(run, None)
    assert PUSH not in [s.method for s in hub.requests]


def test_finding_the_task_is_bounded_by_the_deadline(tmp_path: Path, hostile: Start) -> None:
    hub = hostile("drip-headers", LIST)
    run = status(tmp_path, hub, "--name", "HelloExecutor")
    assert_timed_out(run, "run `hubci status` again")


@pytest.mark.parametrize("mode", ["big-line", "gzip-bomb"])
def test_an_oversized_json_answer_fails_at_once(tmp_path: Path, hostile: Start, mode: str) -> None:
    hub = hostile(mode, WHOAMI)
    run = status(tmp_path, hub)
    assert run.code == 3, run.out + run.err
    assert_bounded(run)
    assert run.err.strip().splitlines() == [
        "hubci: error: the Hub's answer to user.identity.whoami is larger than 8.0 MiB "
        "(check --hub-url / JINA_HUBBLE_REGISTRY (the Hub's base URL))"
    ]
    assert run.seconds < TIMEOUT + SLACK


@pytest.mark.parametrize("code", ["302", "307"])
@pytest.mark.parametrize("target", [WHOAMI, PUSH, PROGRESS])
def test_redirects_are_refused_and_nothing_reaches_the_other_origin(
    tmp_path: Path, executor: Path, hostile: Start, code: str, target: str
) -> None:
    other = hostile("normal")
    port = other.url.rsplit(":", 1)[1]
    hub = hostile(f"redirect-{code}", target, redirect_to=f"http://user:pw@127.0.0.1:{port}")
    run = push(tmp_path, executor, hub) if target == PUSH else status(tmp_path, hub)
    assert run.code == 3, run.out + run.err
    assert_bounded(run)
    lines = run.err.strip().splitlines()
    assert lines[-1].startswith(
        f"hubci: error: the Hub answered {target} with a redirect (HTTP {code}) to "
        f"http://127.0.0.1:{port}, which hubci does not follow (set --hub-url / "
        "JINA_HUBBLE_REGISTRY to the Hub's real address; session id "
    ), lines
    assert "user:pw" not in run.err
    assert "from-the-location" not in run.err
    assert "/v2/rpc" not in lines[-1]
    for seen in other.requests:  # nothing is expected there at all; never the token
        assert "authorization" not in seen.headers
        assert TOKEN not in json.dumps(seen.headers)
    assert other.requests == []
    assert [s.method for s in hub.requests].count(target) == 1  # never sent twice


# -- the pieces -----------------------------------------------------------------------------


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only, never a proxy
    session.mount("http://", GuardedAdapter())
    return session


def _poll(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.mark.parametrize("mode", ["silent", "drip-headers", "drip-body"])
def test_the_watchdog_ends_a_call_on_a_reused_connection(hostile: Start, mode: str) -> None:
    hub = hostile(mode, PROGRESS)
    with _session() as session:
        first = session.post(f"{hub.url}/v2/rpc/{WHOAMI}", timeout=10)
        assert first.json()["data"]["name"] == "x"  # the connection goes back to the pool
        started = time.monotonic()
        with guard(time.monotonic() + 0.5) as dog:
            try:
                resp = session.post(f"{hub.url}/v2/rpc/{PROGRESS}", timeout=(10, 60))
                resp.content  # noqa: B018 - reads the dripped body until the watchdog ends it
            except requests.RequestException:
                pass
        assert dog.fired
        assert time.monotonic() - started < 10
    assert [s.method for s in hub.requests] == [WHOAMI, PROGRESS]
    assert hub.connections == 1  # the second request reused the pooled connection


def test_a_watchdog_that_is_closed_or_disarmed_never_fires() -> None:
    left, right = socket.socketpair()
    with left, right:
        dog = Watchdog(time.monotonic() + 60)
        dog.register(left)
        dog.arm(None)
        dog.arm(time.monotonic() + 60)
        dog.close()
        dog.arm(time.monotonic())  # closed: ignored
        thread = dog._thread
        assert thread is not None
        assert _poll(lambda: not thread.is_alive())
        assert not dog.fired
        right.sendall(b"still open")
        assert left.recv(64) == b"still open"

        fast = Watchdog()
        fast.register(left)
        fast.arm(time.monotonic())
        assert _poll(lambda: fast.fired)
        assert left.recv(64) == b""  # shut down: EOF at once
        late = socket.socket()
        fast.register(late)  # after firing: shut down at once (not connected: no error)
        late.close()
        fast.close()


def test_a_gzip_bomb_stops_at_the_limit_in_bounded_memory(hostile: Start) -> None:
    hub = hostile("gzip-bomb", WHOAMI)
    with _session() as session:
        resp = session.post(f"{hub.url}/v2/rpc/{WHOAMI}", stream=True, timeout=10)
        assert resp.headers["Content-Encoding"] == "gzip"
        tracemalloc.start()
        try:
            with pytest.raises(BodyRefused, match=r"^the answer is larger than 8.0 MiB$"):
                read_body(resp, limit=8 * 1024 * 1024, what="the answer")
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            resp.close()
    assert peak < 24 * 1024 * 1024


def test_a_body_past_the_limit_is_refused(hostile: Start) -> None:
    hub = hostile("big-line", WHOAMI)
    with _session() as session:
        resp = session.post(f"{hub.url}/v2/rpc/{WHOAMI}", stream=True, timeout=10)
        with resp, pytest.raises(BodyRefused, match=r"larger than 1\.0 MiB"):
            read_body(resp, limit=1024 * 1024, what="the answer")
        sized = session.post(f"{hub.url}/v2/rpc/{LIST}", stream=True, timeout=10)
        with sized, pytest.raises(BodyRefused, match="larger than 10 B"):
            read_body(sized, limit=10, what="the answer")  # refused by its Content-Length


def test_a_huge_chunk_is_read_a_piece_at_a_time(hostile: Start) -> None:
    hub = hostile("huge-chunk", PROGRESS)
    with _session() as session:
        resp = session.post(f"{hub.url}/v2/rpc/{PROGRESS}", stream=True, timeout=10)
        with resp:
            pieces = iter_body(resp, what="the stream", piece=64 * 1024)
            sizes = [len(next(pieces)) for _ in range(200)]
    assert max(sizes) <= 64 * 1024
    assert sum(sizes) > 0


def _served(hostile: Start, body: bytes, encoding: str | None) -> bytes:
    """``body`` served with ``encoding`` by a loopback server, read back by :func:`iter_body`."""
    hub = hostile("fixed", WHOAMI, body=body, encoding=encoding)
    with _session() as session:
        resp = session.post(f"{hub.url}/v2/rpc/{WHOAMI}", stream=True, timeout=10)
        with resp:
            pieces = list(iter_body(resp, what="the answer", piece=100))
    assert all(len(p) <= 100 for p in pieces)
    return b"".join(pieces)


def test_content_encodings(hostile: Start) -> None:
    data = b'{"data": {"name": "x"}}' * 100
    gz = zlib.compressobj(6, zlib.DEFLATED, 31)
    gzipped = gz.compress(data) + gz.flush()
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    cases = {
        "gzip": gzipped,
        "x-gzip": gzipped,
        "deflate": zlib.compress(data),
        "Deflate": raw.compress(data) + raw.flush(),  # headerless deflate, as some servers send
        "identity": data,
        None: data,
    }
    for encoding, body in cases.items():
        assert _served(hostile, body, encoding) == data, encoding
    assert _served(hostile, gzipped + gzipped, "gzip") == data * 2  # two gzip members
    for refused in ("br", "zstd", "gzip, br", "compress"):
        with pytest.raises(BodyRefused, match="does not read"):
            check_encoding(refused, what="the answer")
    with pytest.raises(BodyRefused, match="not valid gzip data"):
        _served(hostile, b"\x1f\x8bnot gzip at all", "gzip")


def test_the_bomb_is_what_it_claims() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first = inflater.decompress(bomb[:4096], 1 << 20)
    assert len(first) == 1 << 20
    assert not first.strip(b"\0")


def test_origin_of() -> None:
    assert origin_of("http://u:p@Example.com:8080/a/b?token=x#f") == "http://example.com:8080"
    assert origin_of("https://[::1]/x") == "https://[::1]"
    assert origin_of("https://hub.example.org") == "https://hub.example.org"
    for bad in ("/relative", "http://", "http://h:99999/", "http://h\u00e9/x", "x y://h"):
        assert origin_of(bad) is None, bad


def _client(hub: HostileHub, **kw: object) -> HubClient:
    return HubClient(
        hub.url,
        Secret(TOKEN),
        retry=RetryPolicy(attempts=2, sleep=lambda _s: None, jitter=0),
        log=lambda _line: None,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body"])
def test_a_json_call_is_capped_by_the_read_timeout_without_a_deadline(
    hostile: Start, mode: str
) -> None:
    hub = hostile(mode, WHOAMI)
    started = time.monotonic()
    with (
        _client(hub, timeouts=Timeouts(connect=5, read=1)) as client,
        pytest.raises(HubError, match=r"^read timeout from user\.identity\.whoami, still failing"),
    ):
        client.whoami()
    assert time.monotonic() - started < 15
    assert [s.method for s in hub.requests] == [WHOAMI, WHOAMI]  # retried: no side effects


def test_a_json_call_past_the_deadline_raises_deadline_reached(hostile: Start) -> None:
    hub = hostile("silent", LIST)
    with _client(hub, deadline=time.monotonic() + 1) as client:
        assert client.whoami() == User(name="x")
        with pytest.raises(DeadlineReached) as info:
            client.list_tasks("HelloExecutor")
        assert info.value.exit_code == 4
        with pytest.raises(DeadlineReached):  # no time left: no request at all
            client.whoami()
    assert [s.method for s in hub.requests] == [WHOAMI, LIST]


def test_a_garbage_stream_stalls_and_is_reconnected(hostile: Start) -> None:
    hub = hostile("garbage", PROGRESS)
    logs: list[str] = []
    deadline = time.monotonic() + 5
    with _client(hub, timeouts=Timeouts(connect=5, read=5, stall=1), deadline=deadline) as client:
        with client.query_progress(TASK_ID, replay=True, verbose=False) as stream:
            started = time.monotonic()
            with pytest.raises(StreamBroken) as info:
                list(stream.events())
            assert info.value.stalled
            assert 0.9 < time.monotonic() - started < 4
            assert stream.garbage_lines > 0
        events: list[BuildEvent] = []
        follower = Follower(client, False, events.append, deadline, logs.append, lambda _s: None)
        with pytest.raises(DeadlineReached):  # FollowTimeout, or the stream's own
            follower.task(TASK_ID)
    stalls = [line for line in logs if line.endswith("the progress stream stalled")]
    assert len(stalls) >= 2, logs
    assert events == []
