"""Secrets of awkward shapes through the real CLI: JSON stays JSON, URL credentials stay out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hello-executor"


def _hubci(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "hubci", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize("value", ["null", "true", "1714"])
def test_json_results_stay_json_whatever_a_build_env_holds(tmp_path: Path, value: str) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(EXAMPLE, folder)
    (folder / "requirements.txt").write_text("torch==${TORCH}\n")
    args = ("push", str(folder), "--hub", "local", "--build-env", "TORCH", "--dry-run")
    proc = _hubci(*args, "--format", "json", env={"TORCH": value})
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["visibility"] is None
    assert document["build_env"] == ["TORCH"]
    validated = _hubci("validate", str(folder), "--format", "json", "--build-env", f"TORCH={value}")
    assert json.loads(validated.stdout)["ok"] is True


@pytest.mark.parametrize("password", ["pa#ss1234", "pa?ss1234", "pa/ss1234"])
def test_hub_url_credentials_are_refused_and_never_shown(password: str) -> None:
    url = f"http://alice:{password}@127.0.0.1:9"
    proc = _hubci("push", str(EXAMPLE), "--hub-url", url, "--token", "t0ken-x", "--dry-run")
    assert proc.returncode == 2
    assert "must not carry credentials" in proc.stderr
    assert password not in proc.stdout + proc.stderr
    assert "ss1234" not in proc.stdout + proc.stderr
