"""The unmodified official client (``jina-hubble-sdk==0.39.0``) in its own virtual environment.

:func:`hubble_python` creates the venv once under ``.cache/`` (gitignored) at the repository
root, guarded by a file lock so parallel test processes share one install; a half-made venv
(no ``.complete`` marker) is rebuilt. :func:`run_official` runs the SDK's own CLI entry,
``python -m hubble.executor push|status ...`` (argparse parser + ``HubIO(args).<command>()``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SDK = "jina-hubble-sdk==0.39.0"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
VENV = CACHE / "hubble-sdk-0.39.0"
MARKER = VENV / ".complete"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 180


class HubbleSetupError(RuntimeError):
    pass


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def hubble_python() -> Path:
    """The venv's interpreter, creating the venv on first use."""
    if MARKER.is_file():
        return _python(VENV)
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "hubble-sdk.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if MARKER.is_file():  # another process made it while we waited
            return _python(VENV)
        shutil.rmtree(VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        steps = [
            [base, "-m", "venv", str(VENV)],
            [str(_python(VENV)), "-m", "pip", "install", "-q", "--disable-pip-version-check", SDK],
        ]
        for cmd in steps:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
            if done.returncode != 0:
                shutil.rmtree(VENV, ignore_errors=True)
                msg = f"{' '.join(cmd[:4])} failed: {done.stderr[-2000:]}"
                raise HubbleSetupError(msg)
        MARKER.write_text(SDK + "\n", encoding="utf-8")
    return _python(VENV)


def official_env(hub_url: str, token: str | None, home: Path) -> dict[str, str]:
    """The environment for the official client against ``hub_url``, isolated in ``home``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "JINA_HUB_ROOT": str(home / ".jina"),
        "JINA_HUBBLE_REGISTRY": hub_url,
        "SHOW_HUBBLE_HINT": "NEVER",
        "JINA_LOG_NO_COLOR": "1",
        "COLUMNS": "250",
        "TERM": "dumb",
        "PYTHONUNBUFFERED": "1",
    }
    if token is not None:
        env["JINA_AUTH_TOKEN"] = token
    return env


def run_official(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``jina hub <args>`` as the SDK does (e.g. ``["push", "folder", "--public"]``)."""
    cmd = [str(hubble_python()), "-m", "hubble.executor", *args]
    return subprocess.run(
        cmd,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
