"""Ctrl-C while following a build: exit 130 and say how to follow the build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hubci.server.embedded import HubHandle
from tests.push.conftest import TOKEN


def test_ctrl_c_while_following_exits_130_with_the_status_command(
    hub: HubHandle, executor: Path
) -> None:
    hub.add_fault("slow-build:30")
    env = {**os.environ, "JINA_AUTH_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubci", "push", str(executor), "--hub-url", hub.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("build: extractZip"):
                break
        assert seen, "hubci printed nothing"
        assert seen[-1].startswith("build: extractZip"), seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("hubci: error: interrupted; the build goes on at the Hub")
    assert "follow it with `hubci status --id " in last
