"""The few git plumbing calls the matrix needs, run as subprocesses with a stable environment.

Only read-only commands are used (``rev-parse``, ``ls-files``, ``merge-base``, ``diff``,
``ls-tree``, ``cat-file``); ``GIT_OPTIONAL_LOCKS=0`` keeps them from refreshing the index, so a
``hubci matrix`` running next to an editor or another git command never fights over
``index.lock``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hubci.errors import ConfigError
from hubci.gitcmd import git


class GitFailed(Exception):
    """A git command exited non-zero; ``stderr`` holds git's own first line."""

    def __init__(self, args: Sequence[str], stderr: str) -> None:
        self.stderr = stderr.strip().splitlines()[0] if stderr.strip() else ""
        super().__init__(f"git {' '.join(args)}: {self.stderr or 'no message'}")


def git_available() -> bool:
    return shutil.which("git") is not None


def run_git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git -C cwd ARGS`` and return its stdout; raise GitFailed on a non-zero exit."""
    proc = git(cwd, args, stdin=stdin)
    if proc.returncode != 0:
        raise GitFailed(args, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


@dataclass(frozen=True)
class WorkTree:
    """The git work tree that holds a folder."""

    top: Path  # the work tree's top level, resolved
    shallow: bool


def work_tree_of(path: Path) -> WorkTree | None:
    """The work tree containing ``path``, or None when it is not in one (or git is missing).

    A repository git refuses to read because of its owner is an error, not "no repository":
    silently falling back to a plain walk would change which files count.
    """
    if not git_available():
        return None
    try:
        out = run_git(path, "rev-parse", "--show-toplevel", "--is-shallow-repository")
    except GitFailed as exc:
        if "dubious ownership" in exc.stderr:
            raise ConfigError(
                f"git refuses to read the repository at {path}: {exc.stderr}",
                hint=f"run `git config --global --add safe.directory {path.resolve()}`",
            ) from exc
        return None
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 2 or not lines[0]:  # inside .git, or a bare repository
        return None
    return WorkTree(top=Path(lines[0]).resolve(), shallow=lines[1].strip() == "true")


def split_z(out: bytes) -> list[str]:
    """Split NUL-terminated git output into strings (file names keep undecodable bytes)."""
    return [part.decode("utf-8", "surrogateescape") for part in out.split(b"\0") if part]


def list_files(folder: Path) -> list[str]:
    """Files under ``folder`` git would consider: tracked plus untracked-but-not-ignored.

    Paths are POSIX and relative to ``folder``. Honours every ignore source git does (nested
    ``.gitignore`` files, ``.git/info/exclude``, ``core.excludesFile``). Tracked files deleted
    from the work tree are still listed; callers check existence where it matters.
    """
    out = run_git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
    return sorted({p for p in split_z(out) if not p.endswith("/")})
