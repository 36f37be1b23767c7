"""``hubci hub serve`` as a real process: the stdout line, signals, restart, CLI faults."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from hubci.server.embedded import embedded_hub
from testing.hub import ALICE, ALICE_TOKEN, USERS, start_hub_process

from .helpers import (
    executor_zip,
    lines_of,
    push,
    push_raw,
    query_progress,
    tasks,
    terminal,
    wait_for,
)


def test_serve_prints_one_line_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = start_hub_process(data, users=USERS)
    try:
        assert hub.url.startswith("http://127.0.0.1:")
        whoami = requests.post(
            f"{hub.url}/v2/rpc/user.identity.whoami",
            headers={"Authorization": f"token {ALICE_TOKEN}"},
            timeout=10,
        )
        assert whoami.json()["data"]["name"] == ALICE
    finally:
        code = hub.stop()
    assert code == 0
    assert hub.stdout_lines == [f"hubci hub listening on {hub.url}\n"]
    log = hub.stderr()
    assert "signal SIGTERM" in log
    assert ALICE_TOKEN not in log
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "hub.db").stat().st_mode) == 0o600


def test_sigint_stops_it_cleanly_too(tmp_path: Path) -> None:
    hub = start_hub_process(tmp_path / "data", users=USERS)
    try:
        os.kill(hub.pid, signal.SIGINT)
        assert hub.proc.wait(20) == 0
    finally:
        hub.kill()
    log = hub.stderr()
    assert "signal SIGINT" in log
    assert "Traceback" not in log
    assert hub.stdout_lines == [f"hubci hub listening on {hub.url}\n"]


def test_state_survives_a_restart_and_interrupted_builds_fail_clearly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_hub_process(data, users=USERS, args=["--build-seconds", "0"])
    try:
        built = terminal(push(first.url, executor_zip(), id="Greeter", tags="v1"))["payload"]
        first_task = tasks(first.url, "Greeter")[0]["_id"]
        first.kill()  # no chance to clean up
        second = start_hub_process(data, users=USERS, args=["--build-seconds", "60"])
        # buildWithNoCache: built again, not reused from the first build (the same bundle)
        response = push_raw(
            second.url, executor_zip(), id="Greeter", tags="v2", buildWithNoCache="True"
        )
        stream = response.iter_lines()
        assert json.loads(next(stream))["type"] == "init"
        running = tasks(second.url, "Greeter")[0]["_id"]
        second.kill()  # SIGKILL in the middle of the build
    finally:
        first.kill()
    (data / "work" / "upload-leftover.part").write_bytes(b"half an upload")
    third = start_hub_process(data, users=USERS)
    try:
        assert list((data / "work").iterdir()) == []
        assert not (data / "bundles" / f"{running}.zip").exists()
        assert (data / "bundles" / f"{first_task}.zip").exists()
        listed = tasks(third.url, "Greeter")
        assert [t["_id"] for t in listed] == [running, first_task]
        assert listed[0]["status"] == "failed"
        assert listed[0]["error"]["message"] == "the Hub restarted during the build; push again"
        assert listed[1]["status"] == "succeeded"
        replay = lines_of(query_progress(third.url, running))
        assert replay[-1]["status"] == "failed"
        assert "restarted" in replay[-1]["error"]["message"]
        old = lines_of(query_progress(third.url, first_task))
        assert old[-1]["result"]["id"] == built["id"]
        again = terminal(push(third.url, executor_zip(), id="Greeter", tags="v2"))["payload"]
        assert again["id"] == built["id"]
        assert "interrupted by the last stop were marked failed" in third.stderr()
    finally:
        assert third.stop() == 0


def test_sigterm_during_a_build_ends_it_failed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = start_hub_process(data, users=USERS, args=["--build-seconds", "60"])
    try:
        response = push_raw(hub.url, executor_zip(), id="Greeter")
        stream = response.iter_lines()
        assert json.loads(next(stream))["type"] == "init"
        assert hub.stop() == 0
        rest = [json.loads(line) for line in stream]
        assert rest[-1]["type"] == "error"
        assert "stopped during the build" in rest[-1]["payload"]["readableMessage"]
    finally:
        hub.kill()
    again = start_hub_process(data, users=USERS)
    try:
        assert tasks(again.url, "Greeter")[0]["status"] == "failed"
    finally:
        again.stop()


def test_every_fault_can_be_armed_from_the_command_line(tmp_path: Path) -> None:
    specs = [
        "whoami-status:503:1",
        "upload-status:429:1",
        "upload-reset:1",
        "stream-cut:2",
        "slow-build:0.01",
        "fail-build:linux/arm64",
    ]
    hub = start_hub_process(
        tmp_path / "data", users=USERS, args=[arg for spec in specs for arg in ("--fault", spec)]
    )
    try:
        assert (
            requests.post(f"{hub.url}/v2/rpc/user.identity.whoami", timeout=10).status_code == 503
        )
        limited = push_raw(hub.url, executor_zip(), id="Greeter")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        limited.close()
        with pytest.raises(requests.ConnectionError):
            push_raw(hub.url, executor_zip() + b"\0" * (4 * 1024 * 1024), id="Greeter").content  # noqa: B018
        cut = lines_of(push_raw(hub.url, executor_zip(), id="Greeter", platform="linux/arm64"))
        assert [line["type"] for line in cut] == ["init", "start"]  # no terminal line
        wait_for(lambda: tasks(hub.url, "Greeter")[0]["status"] == "failed", what="the build")
        assert "returned a non-zero code: 1" in tasks(hub.url, "Greeter")[0]["error"]["message"]
    finally:
        hub.stop()
    log = hub.stderr()
    for fired in (
        "fault fired: whoami-status:503",
        "fault fired: upload-status:429",
        "fault fired: upload-reset",
        "fault fired: stream-cut:2 (push stream)",
        "fault fired: slow-build:0.01",
        "fault fired: fail-build:linux/arm64",
    ):
        assert fired in log


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubci", "hub", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    for args, words in (
        (["--user", "alice"], "--user expects NAME=TOKEN"),
        (["--user", "al ice=abcdefgh123"], "invalid user name"),
        (["--user", "alice=short"], "at least 8 characters"),
        (["--user", "alice=abcdefgh123", "--user", "alice=ijklmnop456"], "given twice"),
        (["--user", "alice=abcdefgh123", "--user", "bob=abcdefgh123"], "same token as"),
        (["--fault", "upload-status:999:1"], "CODE must be"),
        (["--builder", "magic"], "Invalid value for '--builder'"),
        (["--registry", "http://127.0.0.1:5000"], "--registry needs --builder docker"),
        (["--builder", "docker", "--registry", "127.0.0.1:5000"], "must start with http"),
        (["--builder", "docker", "--registry", "http://r/x"], "no path or user"),
    ):
        done = _serve("--data-dir", str(tmp_path / "d"), *args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""


def test_a_folder_that_is_not_a_hubs_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    (home / "work" / "notes.txt").write_text("mine\n")
    home.chmod(0o755)
    done = _serve("--data-dir", str(home))
    assert done.returncode == 2, done.stderr
    assert f"{home} is not a Hub data folder (it holds 'work/notes.txt')" in done.stderr
    assert "new or empty folder" in done.stderr
    assert (home / "work" / "notes.txt").read_text() == "mine\n"
    assert stat.S_IMODE(home.stat().st_mode) == 0o755
    assert sorted(p.name for p in home.iterdir()) == ["work"]
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    with embedded_hub(data_dir=empty, users=USERS) as hub:
        assert hub.data_dir == empty.resolve()
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700
    with embedded_hub(data_dir=empty, users=USERS):  # a Hub's own folder is used again
        pass


def test_one_hub_per_data_dir_and_port_in_use(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = start_hub_process(data, users=USERS)
    try:
        same_dir = _serve("--data-dir", str(data), "--user", "alice=abcdefgh123")
        assert same_dir.returncode != 0
        assert "another local Hub is using" in same_dir.stderr
        port = hub.url.rsplit(":", 1)[1]
        same_port = _serve("--data-dir", str(tmp_path / "other"), "--port", port)
        assert same_port.returncode != 0
        assert "cannot listen on 127.0.0.1" in same_port.stderr
        assert "Traceback" not in same_port.stderr + same_dir.stderr
    finally:
        hub.stop()


def test_without_users_a_local_account_is_made(tmp_path: Path) -> None:
    hub = start_hub_process(tmp_path / "data", users={})
    try:
        wait_for(lambda: "JINA_AUTH_TOKEN=" in hub.stderr(), what="the token hint")
        log = hub.stderr()
        token_file = (tmp_path / "data" / "local-token").resolve()
        assert f"created user `local` for this run, its token is in {token_file}" in log
        assert f"JINA_AUTH_TOKEN=$(cat {token_file})" in log
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert token not in log
        whoami = requests.post(
            f"{hub.url}/v2/rpc/user.identity.whoami",
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        assert whoami.json()["data"]["name"] == "local"
    finally:
        hub.stop()
    again = start_hub_process(tmp_path / "data", users=USERS)  # with accounts: no token file
    try:
        assert not token_file.exists()
    finally:
        again.stop()


def test_the_listening_socket_lets_asyncio_disable_nagle() -> None:
    import socket

    from hubci.server.runner import listen, url_of

    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # else kept-alive answers wait ~40 ms
        assert url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()
    v6 = listen("::1", 0)
    try:
        assert url_of(v6).startswith("http://[::1]:")
    finally:
        v6.close()


def test_embedded_hub_refuses_a_data_dir_in_use(tmp_path: Path) -> None:
    import pytest

    from hubci.errors import ConfigError
    from hubci.server.embedded import embedded_hub

    with embedded_hub(data_dir=tmp_path, users=USERS, build_seconds=0) as first:
        with (
            pytest.raises(ConfigError, match="another local Hub is using"),
            embedded_hub(data_dir=tmp_path, users=USERS),
        ):
            pass
        assert (
            requests.post(f"{first.url}/v2/rpc/user.identity.whoami", timeout=10).status_code == 401
        )
    with embedded_hub(data_dir=tmp_path) as again:  # released on exit; default user `local`
        assert again.default_user == "local"
        whoami = requests.post(
            f"{again.url}/v2/rpc/user.identity.whoami",
            headers={"Authorization": f"token {again.default_token}"},
            timeout=10,
        )
        assert whoami.json()["data"]["name"] == "local"


def test_serve_help_lists_every_option() -> None:
    done = _serve("--help")
    assert done.returncode == 0
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--user",
        "--builder",
        "--fault",
        "--build-seconds",
    ):
        assert option in done.stdout
