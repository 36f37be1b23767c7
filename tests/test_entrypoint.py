"""The entry point: every error is one line on stderr with the right exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _hubci(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubci", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "hubci: error: No such command 'nope'. (see 'hubci --help')"),
        (
            ["validate", "--format", "xml", "."],
            "hubci: error: Invalid value for '--format': 'xml' is not one of 'text', 'json', "
            "'github'. (see 'hubci validate --help')",
        ),
        (["validate"], "hubci: error: Missing argument 'PATH...'. (see 'hubci validate --help')"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    proc = _hubci(*args)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [message]
    assert proc.stdout == ""


def test_version_and_help() -> None:
    from hubci import __version__

    assert _hubci("--version").stdout.strip() == f"hubci, version {__version__}"
    help_text = _hubci("--help").stdout
    for command in ("action", "build", "hub", "matrix", "push", "status", "tags", "validate"):
        assert f"  {command} " in help_text
