"""Running read-only ``git`` commands, the one way hubci does it (tags, matrix).

A stable environment for every call: C locale (parseable messages), no prompts, no pager, and
``GIT_OPTIONAL_LOCKS=0`` so that reads never refresh the index and never fight an editor or
another git command over ``index.lock``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {"LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
    )
    return env


def git(
    cwd: Path, args: Sequence[str], *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git -C cwd ARGS``, output captured; the caller decides what a non-zero exit means.
    Raises FileNotFoundError when git is not installed."""
    return subprocess.run(
        ["git", "-C", str(cwd), *args], input=stdin, capture_output=True, env=git_env(), check=False
    )
