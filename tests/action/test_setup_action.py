"""setup/action.yml: its install step, run as the runner runs a composite step (bash, the
runner's files), installs this checkout's hubci with the lock's hashes checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hubci import __version__
from testing.action_image import serve_folder, wheelhouse

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_the_install_step_puts_this_hubci_on_the_path(tmp_path: Path) -> None:
    action = yaml.safe_load((REPO / "setup" / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "install")
    assert step["shell"] == "bash"
    github_path, github_output = tmp_path / "path", tmp_path / "output"
    github_path.write_text("")
    github_output.write_text("")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = serve_folder(wheelhouse(running))  # the lock's wheels, instead of PyPI
    try:
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            env={
                **os.environ,
                "PYTHON": sys.executable,
                "SOURCE": str(REPO / "setup" / ".."),
                "RUNNER_TEMP": str(tmp_path),
                "GITHUB_PATH": str(github_path),
                "GITHUB_OUTPUT": str(github_output),
                "PIP_NO_INDEX": "1",
                "PIP_FIND_LINKS": wheels.url,
            },
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        wheels.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    (added,) = github_path.read_text().splitlines()
    assert added == str(tmp_path / "hubci" / "bin")
    assert github_output.read_text() == f"version={__version__}\n"
    version = subprocess.run(
        [str(Path(added) / "hubci"), "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in version.stdout
