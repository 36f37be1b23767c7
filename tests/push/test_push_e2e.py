"""``hubci push`` end to end against the local Hub on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle
from tests.push.conftest import TOKEN, USER, Cli


def _hub_args(hub: HubHandle) -> list[str]:
    return ["--hub-url", hub.url, "--token", TOKEN]


def test_push_succeeds_with_a_clear_result(cli: Cli, hub: HubHandle, executor: Path) -> None:
    run = cli("push", str(executor), *_hub_args(hub), "-t", "v1", "-t", "latest")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith(f"succeeded: {USER}/HelloExecutor (")
    assert "  use:        jinaai://alice/HelloExecutor:v1" in lines
    assert "upload 100%" in run.err


def test_push_json_result(cli: Cli, hub: HubHandle, executor: Path) -> None:
    run = cli(
        "push", str(executor), *_hub_args(hub), "--format", "json", "--platform", "linux/arm64"
    )
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert set(data) == {
        "status", "task_id", "build_id", "executor", "bundle", "duration_s", "error",
    }  # fmt: skip
    assert data["status"] == "succeeded"
    assert data["error"] is None
    assert isinstance(data["task_id"], str)
    assert data["executor"]["owner"] == USER
    assert data["executor"]["name"] == "HelloExecutor"
    assert data["executor"]["platforms"] == ["linux/arm64"]
    assert data["executor"]["docker_uri"] == "jinaai+docker://alice/HelloExecutor:latest"
    assert set(data["bundle"]) == {"md5", "size", "files"}
    again = json.loads(cli("push", str(executor), *_hub_args(hub), "--format", "json").out)
    assert again["bundle"] == data["bundle"]  # deterministic bundle, same md5


def test_failed_build_exits_1(cli: Cli, hub: HubHandle, executor: Path) -> None:
    hub.add_fault("fail-build:linux/arm64")
    run = cli("push", str(executor), *_hub_args(hub), "--platform", "linux/arm64")
    assert run.code == 1
    assert run.out.startswith("failed: the build failed: ")


def test_validation_errors_stop_before_any_network_call(cli: Cli, executor: Path) -> None:
    (executor / "config.yml").write_text(
        "jtype: Missing\nmetas:\n  name: X\n  py_modules: [nope.py]\n"
    )
    run = cli("push", str(executor), "--hub-url", "http://127.0.0.1:9", "--token", TOKEN)
    assert run.code == 2
    assert "validation error(s)" in run.err
    assert "nothing was sent" in run.err


def test_dry_run_needs_no_network(cli: Cli, executor: Path) -> None:
    run = cli(
        "push", str(executor), "--hub-url", "http://127.0.0.1:9", "--dry-run", "--verbose",
        "-t", "v2", "--build-env", "SOME_KEY=dry-run-value", "--private",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "dry run: nothing is sent" in run.out
    assert "http://127.0.0.1:9" in run.out
    assert "v2  from -t/--tag" in run.out
    assert "SOME_KEY" in run.out
    assert "dry-run-value" not in run.out + run.err
    assert "config.yml" in run.out  # --verbose lists the files
    data = json.loads(
        cli("push", str(executor), "--hub-url", "http://127.0.0.1:9", "--dry-run",
            "--format", "json").out
    )  # fmt: skip
    assert data["status"] == "dry-run"
    assert data["bundle"]["files"] >= 3


def test_bad_token_is_a_hub_error(cli: Cli, hub: HubHandle, executor: Path) -> None:
    run = cli("push", str(executor), "--hub-url", hub.url, "--token", "wrong-token-123")
    assert run.code == 3
    assert "refused the token" in run.err
    assert "wrong-token-123" not in run.err
    assert run.err.count("\n") >= 1
    assert "Traceback" not in run.err
    as_json = cli("push", str(executor), "--hub-url", hub.url, "--token", "wrong-token-123",
                  "--format", "json")  # fmt: skip
    assert as_json.code == 3
    result = json.loads(as_json.out)  # one object on stdout for a JSON reader too
    assert result["status"] == "failed"
    assert result["error"].startswith("the Hub refused the token on user.identity.whoami")
    assert "wrong-token-123" not in as_json.out + as_json.err


def test_unreachable_hub_is_exit_3_after_retries(
    cli: Cli, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("hubci.hub.retry.default_sleep", waits.append)
    run = cli("push", str(executor), "--hub-url", "http://127.0.0.1:9", "--token", TOKEN)
    assert run.code == 3
    assert "connection refused from user.identity.whoami" in run.err
    assert "attempt 5/5" in run.err
    assert len(waits) == 4


def test_no_wait_returns_the_task_and_status_follows_it(
    cli: Cli, hub: HubHandle, executor: Path
) -> None:
    platforms = "linux/amd64,linux/arm64"
    run = cli("push", str(executor), *_hub_args(hub), "--no-wait", "--platform", platforms,
              "--format", "json")  # fmt: skip
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["status"] == "submitted"
    task = data["task_id"]
    status = cli("status", "--id", task, *_hub_args(hub), "--replay", "--format", "json")
    assert status.code == 0, status.err
    result = json.loads(status.out)
    assert result["status"] == "succeeded"
    assert result["executor"]["platforms"] == platforms.split(",")  # from the task's build
    newest = cli("status", str(executor), *_hub_args(hub))
    assert newest.code == 0, newest.err
    assert f"following task {task}" in newest.err
    assert f"platforms:  {platforms.replace(',', ', ')}" in newest.out


def test_normalizer_rejection_exits_1(
    cli: Cli, hub: HubHandle, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The offline checks would stop this push; skip them to see the Hub's own verdict.
    monkeypatch.setattr("hubci.push.run.validate_plan", lambda _plan, _reporter, **_kw: None)
    config = executor / "config.yml"
    config.write_text(config.read_text().replace("jtype: HelloExecutor", "jtype: Nope"))
    run = cli("push", str(executor), *_hub_args(hub))
    assert run.code == 1, run.err
    assert run.out.startswith(
        "failed: the Hub's normalizer rejected the bundle: normalizer code 4000"
    )


def test_status_exit_code_follows_the_build(cli: Cli, hub: HubHandle, executor: Path) -> None:
    hub.add_fault("fail-build:linux/amd64")
    pushed = cli("push", str(executor), *_hub_args(hub), "--platform", "linux/amd64",
                 "--format", "json")  # fmt: skip
    assert pushed.code == 1
    task = json.loads(pushed.out)["task_id"]
    status = cli("status", "--id", task, *_hub_args(hub))
    assert status.code == 1
    assert status.out.startswith("failed: the build failed: ")
    unknown = cli("status", "--id", "0" * 24, *_hub_args(hub))
    assert unknown.code == 3
    last = unknown.err.strip().splitlines()[-1]
    assert last.startswith("hubci: error: the Hub found nothing for executor.queryProgress: ")
    assert "check the executor name or task id" in last
    unknown_json = cli("status", "--id", "0" * 24, *_hub_args(hub), "--format", "json")
    assert unknown_json.code == 3
    error = json.loads(unknown_json.out)["error"]
    assert (
        error.split("session id")[0] == last.removeprefix("hubci: error: ").split("session id")[0]
    )


def test_status_without_any_task(cli: Cli, hub: HubHandle, executor: Path) -> None:
    run = cli("status", str(executor), *_hub_args(hub))
    assert run.code == 3
    assert "no build task found for HelloExecutor" in run.err


def test_readme_main_job_with_the_embedded_local_hub(cli: Cli, executor: Path) -> None:
    """`hubci push examples/hello-executor --hub local` ends with a succeeded build."""
    run = cli("push", str(executor), "--hub", "local")
    assert run.code == 0, run.err
    assert run.out.startswith("succeeded: local/HelloExecutor (")
    assert "local Hub listening on http://127.0.0.1:" in run.err
    status = cli("status", str(executor), "--hub", "local", "--format", "json")
    assert status.code == 0, status.err  # the local Hub keeps its state between runs
    assert json.loads(status.out)["status"] == "succeeded"


def test_several_folders_are_pushed_with_a_summary(
    cli: Cli, hub: HubHandle, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = executor.parent / "other-executor"
    shutil.copytree(executor, other)
    config = other / "config.yml"
    config.write_text(config.read_text().replace("name: HelloExecutor", "name: OtherExecutor"))
    monkeypatch.chdir(executor.parent)
    run = cli("push", "*-executor", *_hub_args(hub), "--jobs", "2")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["executor", "name", "status", "exit", "tags", "time", "result"]
    assert "2 of 2 succeeded; exit code 0" in lines[-1]
    data = json.loads(
        cli("push", str(executor), str(other), *_hub_args(hub), "--format", "json").out
    )
    assert data["exit_code"] == 0
    assert [r["name"] for r in data["results"]] == ["HelloExecutor", "OtherExecutor"]
    assert {r["status"] for r in data["results"]} == {"unchanged"}  # built by the first run
    (other / "extra.txt").write_text("changed\n")
    rerun = cli("push", "*-executor", *_hub_args(hub), "--jobs", "2")
    rows = {line.split()[0]: line.split()[2] for line in rerun.out.splitlines()[1:-1]}
    assert rows == {"hello-executor": "unchanged", "other-executor": "succeeded"}
    assert "2 of 2 succeeded (1 unchanged: not uploaded or built again)" in rerun.out
    refused = cli("push", str(executor), str(other), "--name", "X", *_hub_args(hub))
    assert refused.code == 2
    assert "--name names one executor, but 2 folders were given" in refused.err


def test_bad_inputs_are_one_line_usage_errors(cli: Cli, executor: Path, tmp_path: Path) -> None:
    cases = [
        (["push", str(tmp_path / "missing")], "is not a directory"),
        (["push", str(executor), "--hub-url", "http://127.0.0.1:9"], "no Hub token for"),
        (["push", str(executor), "--platform", "linux/sparc"], "unknown platform"),
        (["push", str(executor), "--hub", "ftp://example.org"], "is not an http(s) URL"),
        (["push", str(executor), "-t", "a,b:c"], "is not a valid Hub tag"),
        (["push", str(executor), "-f", "Dockerfile.none"], "does not exist"),
        (["push", str(executor), "--public", "--private"], "exclude each other"),
        (["status", "--hub-url", "http://127.0.0.1:9", str(tmp_path / "missing")], "directory"),
    ]
    for args, words in cases:
        run = cli(*args)
        assert run.code == 2, (args, run.err)
        assert run.out == ""
        lines = run.err.strip().splitlines()
        assert len(lines) == 1, run.err
        assert lines[0].startswith("hubci: error: ")
        assert words in lines[0]


def test_a_protected_tag_is_refused_with_what_to_do(
    cli: Cli, hub: HubHandle, executor: Path
) -> None:
    first = cli("push", str(executor), *_hub_args(hub), "--protected-tag", "v1")
    assert first.code == 0, first.err
    same = cli("push", str(executor), *_hub_args(hub), "-t", "v1")
    assert same.code == 0, same.err  # re-running a release: the tag already has this build
    assert same.out.startswith("unchanged:")
    again = cli("push", str(executor), *_hub_args(hub), "-t", "v1", "--force-build")
    assert again.code == 3
    last = again.err.strip().splitlines()[-1]
    assert last.startswith("hubci: error: the Hub refused executor.push: tag `v1` is protected")
    assert "fix what the Hub names (e.g. use another tag)" in last
    assert "attempt" not in again.err  # a refusal is not retried


def test_status_against_an_unreachable_hub_is_exit_3_not_a_long_wait(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("hubci.hub.retry.default_sleep", waits.append)
    run = cli("status", "--id", "t1", "--hub-url", "http://127.0.0.1:9", "--token", TOKEN)
    assert run.code == 3, run.err
    assert "connection refused from user.identity.whoami, still failing after 5" in run.err
    assert len(waits) == 4


def test_a_private_executor_is_hidden_from_another_user(
    cli: Cli, executor: Path, tmp_path: Path
) -> None:
    from hubci.server.embedded import embedded_hub

    users = {USER: TOKEN, "bob": "bob-token-9876543210"}
    with embedded_hub(data_dir=tmp_path / "hub", users=users, build_seconds=0.01) as hub:
        pushed = cli("push", str(executor), *_hub_args(hub), "--private", "--format", "json")
        assert pushed.code == 0, pushed.err
        result = json.loads(pushed.out)
        assert result["executor"]["visibility"] == "private"
        bob = ["--hub-url", hub.url, "--token", users["bob"]]
        by_path = cli("status", str(executor), *bob)
        by_id = cli("status", "--id", result["task_id"], *bob, "--format", "json")
        owner = cli("status", "--id", result["task_id"], *_hub_args(hub))
    assert by_path.code == 3
    assert "no build task found for HelloExecutor" in by_path.err
    assert "use the token of the user who pushed it" in by_path.err
    assert by_id.code == 3
    assert json.loads(by_id.out)["error"].startswith(
        "the Hub found nothing for executor.queryProgress"
    )
    assert owner.code == 0, owner.err
