"""Messages of push and status that must say the right thing: a missing token, --no-wait, a
timeout or Ctrl-C with the embedded Hub (which stops when the command exits), a missing
--dockerfile."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.push.conftest import Cli, read_stderr_until, spawn_hubci, stop


def test_status_without_a_token_is_a_usage_error_naming_the_hub(cli: Cli, executor: Path) -> None:
    hub = "http://127.0.0.1:9"  # never contacted: the token is checked first
    run = cli("status", str(executor), "--hub-url", hub)
    assert run.code == 2, run.err
    assert run.out == ""
    assert run.err.strip().splitlines() == [
        f"hubci: error: no Hub token for {hub} (set JINA_AUTH_TOKEN, pass --token, "
        "or log in with `jina auth login`)"
    ]
    as_json = cli("status", "--id", "t1", "--hub-url", hub, "--format", "json")
    assert as_json.code == 2
    result = json.loads(as_json.out)
    assert result["status"] == "failed"
    assert result["error"].startswith(f"no Hub token for {hub}")


def test_no_wait_with_the_embedded_hub_is_refused_before_anything_starts(
    cli: Cli, executor: Path
) -> None:
    # The embedded Hub stops when the command exits: a build left behind would always fail.
    run = cli("push", str(executor), "--hub", "local", "--no-wait")
    assert run.code == 2, run.err
    assert run.out == ""
    assert run.err.strip().splitlines() == [
        "hubci: error: --no-wait cannot be used with --hub local: the embedded Hub stops when "
        "hubci push exits, and the build with it (drop --no-wait, or run `hubci hub serve` and "
        "push to its URL)"
    ]
    dry = cli("push", str(executor), "--hub", "local", "--no-wait", "--dry-run")
    assert dry.code == 0, dry.err  # nothing is sent, so nothing is left behind


def test_a_timeout_on_the_embedded_hub_does_not_promise_the_build_goes_on(
    cli: Cli, executor: Path
) -> None:
    # --hub local builds take 1 s per platform, well past this timeout.
    run = cli("push", str(executor), "--hub", "local", "--timeout", "0.2", "--format", "json")
    assert run.code == 4, run.err
    result = json.loads(run.out)
    assert result["status"] == "timeout"
    assert result["error"] == (
        "no result within --timeout 0.2s; the embedded local Hub stops with hubci push, so the "
        "build cannot finish: push again with a longer --timeout (or 0)"
    )


def test_ctrl_c_on_the_embedded_hub_does_not_promise_the_build_goes_on(executor: Path) -> None:
    proc = spawn_hubci("push", str(executor), "--hub", "local")
    try:
        seen = read_stderr_until(proc, "build: extractZip")  # builds take 1 s per platform
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, "".join(seen) + err
    assert out == ""
    assert err.strip().splitlines()[-1] == (
        "hubci: error: interrupted; the embedded local Hub stops with hubci push, and the build "
        "too (push again)"
    )


def test_a_missing_dockerfile_names_the_ones_the_folder_holds(cli: Cli, executor: Path) -> None:
    run = cli("push", str(executor), "-f", "Dockerfile.gpu", "--dry-run")
    assert run.code == 2
    assert run.err.strip().splitlines() == [
        "hubci: error: --dockerfile 'Dockerfile.gpu' does not exist (give a path relative to "
        f"{executor.resolve()}, or drop --dockerfile: the Hub generates one)"
    ]
    (executor / "Dockerfile").write_text("FROM jinaai/jina:3-py38-perf\n")
    (executor / "Dockerfile.cpu").write_text("FROM jinaai/jina:3-py38-perf\n")
    run = cli("push", str(executor), "-f", "Dockerfile.gpu", "--dry-run")
    assert run.code == 2
    assert run.err.strip().endswith(
        f"(give a path relative to {executor.resolve()}; it holds Dockerfile, Dockerfile.cpu)"
    )
