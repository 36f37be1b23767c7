"""A Hub restart in the middle of a build: hubci reconnects, finds its own task and reports
how that build really ended (the local Hub marks builds cut by a restart as failed)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from testing.hub import start_hub_process
from tests.push.conftest import TOKEN, USER, read_stderr_until, spawn_hubci, stop


# testing.hub.HubProcess leaves its stdout pipe to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_hub_restart_mid_build(tmp_path: Path, executor: Path) -> None:
    data = tmp_path / "hub-data"
    users = {USER: TOKEN}
    first = start_hub_process(data, users=users, args=["--fault", "slow-build:20"])
    port = urlsplit(first.url).port
    assert port is not None
    second = None
    push = spawn_hubci("push", str(executor), "--hub-url", first.url, "--format", "json",
                       "--timeout", "120", token=TOKEN)  # fmt: skip
    try:
        seen = read_stderr_until(push, "build: extractZip")
        first.kill()  # the Hub dies in the middle of the build
        second = start_hub_process(data, port=port, users=users)
        out, err = push.communicate(timeout=120)
    finally:
        stop(push)
        first.kill()
        if second is not None:
            second.stop()
    err = "".join(seen) + err
    assert push.returncode == 1, err
    assert "following task " in err
    result = json.loads(out)
    assert result["status"] == "failed"
    assert result["task_id"] is not None
    assert "restart" in result["error"]
