"""Every command's --help reads cleanly: defaults are shown as `[default: X]`, never `(X)`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hubci.cli import COMMANDS, cli

HELP_PATHS = [[name] for name in sorted(COMMANDS)] + [["hub", "serve"]]


@pytest.mark.parametrize("path", HELP_PATHS, ids=" ".join)
def test_help_shows_defaults_without_parentheses(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="hubci", terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Usage: hubci " in result.output
    # click renders show_default="text" as "[default: (text)]"; write the default in the help.
    assert "[default: (" not in result.output


def test_validate_help_names_the_bundle_size_default_and_its_units() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"], prog_name="hubci", terminal_width=200)
    line = next(ln for ln in result.output.splitlines() if "--max-bundle-size" in ln)
    assert "e.g. 500MiB or 2GB  [default: 1GiB]." in line


def test_every_exit_code_is_documented() -> None:
    """Each EXIT_* code of hubci.errors has its row in the README's exit-code table."""
    from pathlib import Path

    from hubci import errors

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {getattr(errors, n) for n in dir(errors) if n.startswith("EXIT_")}
    rows = {
        int(line.split("|")[1])
        for line in table.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }
    assert codes == rows
