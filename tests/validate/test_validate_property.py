"""Arbitrary config.yml and requirements.txt never produce a traceback: findings, exit 0 or 1."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubci.cli import cli
from hubci.findings import Severity
from hubci.validate import validate_folder
from tests.validate.support import EXECUTOR

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = ["jtype", "metas", "py_modules", "with", "requests", "name", "version", "x"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["MyExecutor", "executor.py", "../x.py", "/abs.py", "a-b", "", "!Tag"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
configs = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)

yaml_tokens = st.sampled_from(
    [
        "jtype:",
        " MyExecutor",
        "\n",
        "  ",
        "- ",
        "metas:",
        "py_modules:",
        "name:",
        "!Tag ",
        "[",
        "]",
        "{",
        "}",
        ":",
        "'",
        '"',
        "&a ",
        "*a",
        "---",
        "#",
        "%YAML 1.1",
        "\t",
        "? ",
        "|",
        ">",
        "executor.py",
        "2020-13-45",
        "!!python/object:os.system",
        "<<: *a",
        "\x00",
        "\ufeff",
    ]
)
raw_yaml = st.lists(yaml_tokens, max_size=30).map("".join) | st.text(max_size=200)

req_tokens = st.sampled_from(
    [
        "numpy",
        "==",
        ">=",
        "1.0",
        ".*",
        "[",
        "]",
        ",",
        ";",
        " python_version",
        "<",
        '"3.8"',
        "@",
        " ",
        "\n",
        "\\\n",
        "#",
        "-r",
        "-e",
        "--hash=sha256:00",
        "-f",
        "--extra-index-url",
        "${",
        "}",
        "$",
        "A",
        "a",
        "_",
        "-",
        "git+https://",
        "user:pw@",
        "ghp_" + "x" * 20,
        "github.com/",
        "./",
        "../",
        "/abs",
        ".whl",
        "\x00",
        "\r",
    ]
)
raw_requirements = st.lists(req_tokens, max_size=25).map("".join) | st.text(max_size=200)


def _check(config: str | None, requirements: str | None, build_env: dict[str, Any] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "exec"
        folder.mkdir()
        (folder / "executor.py").write_text(EXECUTOR)
        if config is not None:
            (folder / "config.yml").write_bytes(config.encode("utf-8", "surrogatepass"))
        if requirements is not None:
            (folder / "requirements.txt").write_bytes(requirements.encode("utf-8", "surrogatepass"))
        report = validate_folder(folder, build_env=build_env)
        for f in report.findings:
            assert f.line is None or f.line >= 1
            assert f.col is None or f.col >= 1
            assert f.message
            assert isinstance(f.severity, Severity)
        args = ["validate", "--format", "json", str(folder)]
        for name, value in (build_env or {}).items():
            args += ["--build-env", f"{name}={value}" if value is not None else name]
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code in (0, 1), result.output
        assert result.exit_code == (0 if report.ok() else 1)


@SETTINGS
@given(config=configs)
def test_any_config_mapping(config: dict[str, Any]) -> None:
    _check(yaml.safe_dump(config), None, None)


@SETTINGS
@given(config=raw_yaml)
def test_any_config_text(config: str) -> None:
    _check(config, None, None)


@SETTINGS
@given(
    requirements=raw_requirements,
    build_env=st.none()
    | st.dictionaries(
        st.sampled_from(["A", "a", "NUMPY", "_X", "A-B"]), st.none() | st.text(max_size=5)
    ),
)
def test_any_requirements(requirements: str, build_env: dict[str, Any] | None) -> None:
    _check(None, requirements, build_env)


docker_tokens = st.sampled_from(
    [
        "FROM",
        "from",
        " python:3.11",
        "RUN",
        " echo",
        "\\",
        "\n",
        "`",
        "# escape=`",
        "# syntax=x",
        "#",
        "ARG",
        " A=1",
        "COPY",
        " <<EOF",
        "EOF",
        "<<-'END'",
        "END",
        "ONBUILD",
        " ",
        "\t",
        "\r",
    ]
)
python_tokens = st.sampled_from(
    [
        "class ",
        "MyExecutor",
        "(",
        ")",
        ":",
        "\n",
        "    ",
        "pass",
        "Executor",
        "jina.",
        "from ",
        "import ",
        ".",
        "..",
        "x",
        ",",
        "def __init__",
        "self",
        "*args",
        "=1",
        "if True:",
        "try:",
        "except:",
        " as ",
        "[",
        "]",
        "\\",
        "'",
        '"""',
        "\x00",
        "lambda",
        "@",
    ]
)


def _check_files(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "exec"
        folder.mkdir()
        (folder / "config.yml").write_text(
            "jtype: MyExecutor\nmetas:\n  py_modules:\n    - executor.py\n"
        )
        (folder / "executor.py").write_text(EXECUTOR)
        for rel, text in files.items():
            (folder / rel).write_bytes(text.encode("utf-8", "surrogatepass"))
        report = validate_folder(folder, dockerfile=None)
        assert all(f.line is None or f.line >= 1 for f in report.findings)
        result = CliRunner().invoke(cli, ["validate", "--format", "github", str(folder)])
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code == (0 if report.ok() else 1)


@SETTINGS
@given(st.lists(docker_tokens, max_size=30).map("".join) | st.text(max_size=150))
def test_any_dockerfile(text: str) -> None:
    _check_files({"Dockerfile": text})


@SETTINGS
@given(st.lists(python_tokens, max_size=40).map("".join) | st.text(max_size=150))
def test_any_python_module(text: str) -> None:
    _check_files({"executor.py": text, "helper.py": text})
