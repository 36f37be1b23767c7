"""Ctrl-C during the upload and while following a build: exit 130 and say what to do next."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from hubci.server.embedded import HubHandle
from tests.push.conftest import read_stderr_until, spawn_hubci, stop


def _interrupt_after(proc_args: tuple[str, ...], prefix: str) -> tuple[int, str, str]:
    proc = spawn_hubci(*proc_args)
    try:
        seen = read_stderr_until(proc, prefix)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    return proc.returncode, out, "".join(seen) + err


def test_ctrl_c_while_following_exits_130_with_the_status_command(
    hub: HubHandle, executor: Path
) -> None:
    hub.add_fault("slow-build:30")
    code, out, err = _interrupt_after(
        ("push", str(executor), "--hub-url", hub.url, "--format", "json"), "build: extractZip"
    )
    assert code == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("hubci: error: interrupted; the build goes on at the Hub")
    assert "follow it with `hubci status --id " in last
    result = json.loads(out)  # --format json: one object, with the same one-line error
    assert result["status"] == "failed"
    assert result["error"] == last.removeprefix("hubci: error: ")


def test_ctrl_c_during_the_upload_exits_130_and_says_how_to_check(
    hub: HubHandle, executor: Path
) -> None:
    # The Hub answers 503 (Retry-After: 1) to every upload, so hubci is in the upload (between
    # attempts) when the signal arrives.
    hub.add_fault("upload-status:503:5")
    code, out, err = _interrupt_after(("push", str(executor), "--hub-url", hub.url), "attempt 2/5")
    assert code == 130, err
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last == (
        "hubci: error: interrupted during the upload, before the Hub accepted it: no build "
        "started (push again)"
    )
    assert "Traceback" not in err
