"""An upload whose whole body was sent but never answered: re-sent only when the Hub lists no
build for this push's session id; otherwise that build is followed, never uploaded twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hubci.hub.client import HubClient, Timeouts
from hubci.hub.form import PushForm
from hubci.hub.records import Task
from hubci.hub.retry import RetryPolicy
from hubci.secret import Secret

COMPLETE = {"type": "complete", "payload": {"id": "abcd1234", "visibility": "public"}}


class FlakyHub(ThreadingHTTPServer):
    """Drops the first upload after reading all of it; optionally records a task for it."""

    daemon_threads = True

    def __init__(self, *, task_for_dropped: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.task_for_dropped = task_for_dropped
        self.calls: list[str] = []
        self.uploads = 0
        self.trace: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FlakyHub

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.rsplit("/", 1)[-1]
        hub = self.server
        hub.calls.append(method)
        if method == "executor.push":
            hub.uploads += 1
            if hub.uploads == 1:
                hub.trace = self.headers.get("jinameta-session-id")
                self.close_connection = True  # the whole body arrived; no answer at all
                return
            self._send(201, (json.dumps(COMPLETE) + "\n").encode(), "application/x-ndjson")
        elif method == "executor.listAsyncTasks":
            tasks: list[dict[str, str | None]] = [{"_id": "other", "traceId": "someone-else"}]
            if hub.task_for_dropped:
                tasks.insert(0, {"_id": "t1", "traceId": hub.trace})
            self._send(200, json.dumps({"code": 200, "data": tasks}).encode())
        else:
            self._send(404, b'{"code":404,"message":"no"}')


@pytest.fixture(params=[False, True], ids=["no-task", "task-recorded"])
def flaky(request: pytest.FixtureRequest) -> Iterator[FlakyHub]:
    server = FlakyHub(task_for_dropped=request.param)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_unanswered_upload(flaky: FlakyHub, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"PK" + b"x" * 5000)
    form = PushForm(name="Hello", md5="0" * 32, bundle_path=bundle, bundle_size=5002)
    logs: list[str] = []
    client = HubClient(
        flaky.url,
        Secret("token-123456"),
        timeouts=Timeouts(connect=5, read=10, stall=10),
        retry=RetryPolicy(sleep=lambda _s: None, jitter=0),
        log=logs.append,
    )
    with client:
        upload = client.upload(form)
    assert flaky.trace == client.session_id
    if flaky.task_for_dropped:
        assert upload.task == Task(id="t1", trace_id=client.session_id)
        assert upload.stream is None
        assert flaky.uploads == 1  # never sent twice
    else:
        assert upload.stream is not None
        with upload.stream as stream:
            assert list(stream.events()) == [COMPLETE]
        assert flaky.uploads == 2
        assert logs == [
            "attempt 2/5 in 1.0s: connection closed without an answer from executor.push"
        ]
    assert flaky.calls.count("executor.listAsyncTasks") == 1
