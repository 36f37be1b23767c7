"""The `hubci validate` command: formats, exit codes, path mapping, and no secret in output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubci.cli import cli
from hubci.commands.validate import parse_size
from hubci.validate import executor_folders
from tests.validate.support import FIXTURES, MakeExecutor

REPO = Path(__file__).resolve().parent.parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def test_example_executor_validates_clean() -> None:
    code, out = run(str(REPO / "examples" / "hello-executor"))
    assert code == 0, out


def test_text_format_lines_grouped_per_executor_and_summary_last(
    make_executor: MakeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = make_executor({"requirements.txt": "numpy\ntorch==$TORCH\n", "Dockerfile": "RUN x\n"})
    good = make_executor({"Dockerfile": "FROM python:3.11\n"})
    monkeypatch.chdir(bad.parent)
    code, out = run(bad.name, good.name)
    assert code == 1
    assert out.splitlines() == [
        f"{bad.name}: MyExecutor failed (2 errors)",
        f"{bad.name}/Dockerfile:1: HUB503 error: Dockerfile must start with FROM (only ARG may "
        "come before it), not RUN (start the Dockerfile with "
        "`FROM jinaai/jina:<version>-py<ver>-perf` (ARG may precede))",
        f"{bad.name}/requirements.txt:2:8: HUB401 error: $TORCH has no braces: the Hub "
        "substitutes only ${TORCH} (write ${TORCH})",
        f"{good.name}: MyExecutor ok (no findings)",
        "hubci validate: 1 of 2 executors failed; 2 errors",
    ]


def test_json_format_has_exactly_the_stable_schema(make_executor: MakeExecutor) -> None:
    folder = make_executor({"config.yml": "jtype: MyExecutor\npy_modules: executor.py\nwat: 1\n"})
    code, out = run("--format", "json", str(folder))
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"ok", "executors"}
    assert document["ok"] is True
    (executor,) = document["executors"]
    assert set(executor) == {"path", "name", "jtype", "ok", "findings"}
    assert (executor["name"], executor["jtype"], executor["ok"]) == (
        "MyExecutor",
        "MyExecutor",
        True,
    )
    by_code = {f["code"]: f for f in executor["findings"]}
    assert by_code["HUB114"] == {
        "code": "HUB114",
        "category": "config",
        "severity": "warning",
        "file": "config.yml",
        "line": 3,
        "col": 1,
        "message": "unknown top-level key 'wat' in config.yml",
        "hint": "remove it or move it under `with:` (executor arguments) or `metas:`",
    }
    for finding in executor["findings"]:
        assert set(finding) == {
            "code",
            "category",
            "severity",
            "file",
            "line",
            "col",
            "message",
            "hint",
        }


def test_strict_makes_warnings_fail(make_executor: MakeExecutor) -> None:
    folder = make_executor({"config.yml": "jtype: MyExecutor\npy_modules: executor.py\nwat: 1\n"})
    assert run(str(folder))[0] == 0
    code, out = run("--strict", "--format", "json", str(folder))
    assert code == 1
    assert json.loads(out)["ok"] is False


def test_github_format_is_the_default_on_actions_with_workspace_paths(
    make_executor: MakeExecutor,
) -> None:
    folder = make_executor(
        {
            "requirements.txt": "numpy\nx==${a,b}\n",
            "config.yml": (
                "jtype: MyExecutor\npy_modules: executor.py\nmetas:\n  name: 'bad:name'\n"
            ),
        }
    )
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(folder.parent)}
    code, out = run(str(folder), env=env)
    assert code == 1
    lines = out.splitlines()
    assert (
        f"::error file={folder.name}/config.yml,line=4,col=9,title=HUB112::`metas.name` "
        "'bad:name' is not a valid executor name (use letters, digits, `_` and `-`, starting "
        "with a letter or digit (at most 128))"
    ) in lines
    assert (
        f"::error file={folder.name}/requirements.txt,line=2,col=4,title=HUB402::the reference "
        "${a,b} has lower-case or non-ASCII letters: the Hub will not substitute it (use "
        "upper-case letters, digits and `_`, not starting with `_`, e.g. ${TORCH_VERSION})"
    ) in lines
    assert f"::notice title=HUB505::{folder.name}: no Dockerfile" in "\n".join(lines)
    assert lines[-1] == "hubci validate: 1 of 1 executor failed; 2 errors, 1 info"


def test_github_annotations_escape_properties_and_messages(
    make_executor: MakeExecutor, tmp_path: Path
) -> None:
    folder = make_executor({})
    odd = tmp_path / "odd,dir:100%"
    folder.rename(odd)
    code, out = run("--format", "github", "--build-env", "A%B=1", str(odd))
    assert code == 1
    assert "::error title=HUB405::" in out
    assert "odd%2Cdir%3A100%25" not in out  # no file property: the folder is in the message
    assert "odd,dir:100%25: --build-env name 'A%25B' is not a valid build-env name" in out


def test_github_caps_annotations_per_level(make_executor: MakeExecutor) -> None:
    lines = "".join(f"x{i}==$V{i}\n" for i in range(12))
    folder = make_executor({"requirements.txt": lines})
    code, out = run("--format", "github", str(folder))
    assert code == 1
    assert out.count("::error ") == 10
    # the rest as plain, inert log lines, announced once
    assert out.count("the runner shows 10 error annotations per step") == 1
    assert sum(line.startswith("error: ") for line in out.splitlines()) == 2
    assert out.count(" HUB401 ") == 2


def test_build_env_values_are_never_printed(make_executor: MakeExecutor) -> None:
    folder = make_executor({"requirements.txt": "torch==${TORCH_VERSION}\n"})
    secret = "hunter2-build-value"
    for fmt in ("text", "json", "github"):
        code, out = run(
            "--format",
            fmt,
            "--build-env",
            f"TORCH_VERSION={secret}",
            "--build-env",
            f"UNUSED={secret}",
            "--build-env",
            f"bad_name={secret}",
            str(folder),
        )
        assert code == 1
        assert "UNUSED" in out
        assert secret not in out


def test_a_pasted_value_without_a_name_is_never_printed(make_executor: MakeExecutor) -> None:
    # `--build-env $TOKEN` instead of `--build-env TOKEN=$TOKEN`: the item is the value itself
    folder = make_executor({"requirements.txt": "torch==${TORCH_VERSION}\n"})
    secret = "s3cr3t-Passw0rd"
    for fmt in ("text", "json", "github"):
        code, out = run(
            "--format", fmt, "--build-env", "TORCH_VERSION", "--build-env", secret, str(folder)
        )
        assert code == 1
        assert "--build-env item 2 is not a valid build-env name (not shown: given without" in out
        assert secret not in out


def test_secret_in_requirements_is_never_printed() -> None:
    for fmt in ("text", "json", "github"):
        code, out = run("--format", fmt, str(FIXTURES / "hub701_url_credentials"))
        assert code == 1
        assert "HUB701" in out
        assert "hunter2" not in out


def test_file_arguments_map_to_their_executor_once(
    make_executor: MakeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_executor({"executor/__init__.py": "", "executor/deep/x.py": ""})
    monkeypatch.chdir(folder.parent)
    name = folder.name
    paths = [Path(name, "config.yml"), Path(name, "executor/deep/x.py"), Path(name)]
    assert executor_folders(paths) == [Path(name)]
    code, out = run(*map(str, paths))
    assert code == 0
    assert out.count(f"{name}: MyExecutor ok") == 1


def test_file_outside_any_executor_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("pytest\n")
    code, out = run(str(tmp_path / "requirements.txt"))
    assert (code, out) == (0, "hubci validate: no executor folder among the given paths\n")
    code, out = run("--format", "json", str(tmp_path / "requirements.txt"))
    assert (code, json.loads(out)) == (0, {"ok": True, "executors": []})
    # the same folder given explicitly is validated, and has no executor
    code, out = run(str(tmp_path))
    assert code == 1
    assert "HUB100" in out


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--format", "xml", "."],
        ["does-not-exist"],
        ["--max-bundle-size", "lots", "."],
        ["--max-files", "0", "."],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["validate", *args])
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1000", 1000),
        ("1k", 1024),
        ("2KiB", 2048),
        ("2KB", 2000),
        ("1.5M", 1572864),
        ("1G", 1024**3),
        ("3 GB", 3 * 10**9),
        ("1t", 1024**4),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "x", "1X", "-1", "0", "1 2"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_bundle_limits_from_the_command_line(make_executor: MakeExecutor) -> None:
    folder = make_executor({})
    code, out = run("--max-bundle-size", "100", "--max-files", "2", str(folder))
    assert code == 1
    assert "HUB610" in out
    assert "HUB611" in out


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hubci", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "does not exist" in proc.stderr


def test_unknown_key_suggests_the_closest_known_one(make_executor: MakeExecutor) -> None:
    folder = make_executor({"config.yml": CONFIG_WITH_TYPO})
    code, out = run("--format", "json", str(folder))
    assert code == 0
    (finding,) = [f for f in json.loads(out)["executors"][0]["findings"] if f["code"] == "HUB114"]
    assert (finding["message"], finding["hint"]) == (
        "unknown top-level key 'wth' in config.yml",
        "did you mean `with`?",
    )


CONFIG_WITH_TYPO = "jtype: MyExecutor\npy_modules: executor.py\nwth:\n  a: 1\n"
