"""validate's verdict is push --dry-run's: over every fixture executor and over generated broken
variants of the example. The one documented exception: a build-env value only a push knows
(``${NAME}`` in requirements.txt without ``--build-env``: info for validate, an error for push)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubci.cli import cli
from hubci.validate import validate_folder

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "executors"
EXAMPLE = REPO / "examples" / "hello-executor"
#: Fixtures where only the documented exception separates the two (a value only a push knows).
PUSH_NEEDS_VALUES = {"good_requirements", "hub404_env_not_provided"}


def _push_ok(folder: Path) -> bool:
    result = CliRunner().invoke(cli, ["push", str(folder), "--hub", "local", "--dry-run"])
    assert result.exit_code in (0, 2), result.output  # ok, or a usage/validation error
    return result.exit_code == 0


@pytest.mark.parametrize(
    "folder", sorted(p for p in FIXTURES.iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_each_fixture(folder: Path) -> None:
    validated = validate_folder(folder).ok()
    if folder.name in PUSH_NEEDS_VALUES:
        assert validated
        assert not _push_ok(folder)
        return
    assert validated == _push_ok(folder)


def _remove_config(root: Path) -> None:
    (root / "config.yml").unlink()


def _break_yaml(root: Path) -> None:
    (root / "config.yml").write_text("jtype: [unclosed\n")


def _wrong_jtype(root: Path) -> None:
    text = (root / "config.yml").read_text()
    (root / "config.yml").write_text(text.replace("jtype: HelloExecutor", "jtype: Missing"))


def _copy_outside(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM python:3.11\nCOPY ../x /x\n")


def _config_folder(root: Path) -> None:
    (root / "config.yml").unlink()
    (root / "config.yml").mkdir()


def _secret_file(root: Path) -> None:
    (root / ".env").write_text("TOKEN=abc\n")


def _bad_requirement(root: Path) -> None:
    (root / "requirements.txt").write_text("numpy==\n")


def _token_in_image(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM python:3.11\nENV API_KEY=abc123\n")


def _syntax_error(root: Path) -> None:
    (root / "executor" / "__init__.py").write_text("class HelloExecutor(:\n")


def _fine_dockerfile(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM python:3.11\nCOPY . /app/\n")


MUTATIONS: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (
        _remove_config,
        _break_yaml,
        _wrong_jtype,
        _copy_outside,
        _config_folder,
        _secret_file,
        _bad_requirement,
        _token_in_image,
        _syntax_error,
        _fine_dockerfile,
    )
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(MUTATIONS)), unique=True, max_size=3))
def test_broken_variants(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> None:
    root = tmp_path_factory.mktemp("variant") / "hello"
    shutil.copytree(EXAMPLE, root)
    for name in names:
        needs_config = name in ("_config_folder", "_remove_config", "_break_yaml", "_wrong_jtype")
        if needs_config and not (root / "config.yml").is_file():
            continue  # an earlier mutation took config.yml away
        MUTATIONS[name](root)
    assert validate_folder(root).ok() == _push_ok(root), names
