"""The few read-only git questions the event context needs, through the ``git`` CLI."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from hubci.errors import UsageError
from hubci.gitcmd import git

__all__ = ["Git", "GitUnavailable"]


class GitUnavailable(UsageError):
    """No usable git repository (or no git) where the context was asked for."""


class Git:
    """Runs ``git`` in one folder; ``None`` answers mean "git says no" (unknown ref, no commit)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if not self.cwd.is_dir():
            msg = f"{self.cwd} is not a folder"
            raise GitUnavailable(msg, "run hubci inside a git clone, or pass --ref")
        try:
            proc = git(self.cwd, args)
        except FileNotFoundError as exc:
            msg = "git is not installed"
            raise GitUnavailable(msg, "install git, or pass --ref and --sha") from exc
        return subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )

    def out(self, *args: str) -> str | None:
        proc = self._run(*args)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def check_repository(self) -> None:
        """Raise :class:`GitUnavailable` with the reason when ``cwd`` is not a usable repository."""
        if not self.cwd.is_dir():
            msg = f"{self.cwd} is not a folder"
            raise GitUnavailable(msg, "run hubci inside a git clone, or pass --ref")
        proc = self._run("rev-parse", "--git-dir")
        if proc.returncode == 0:
            return
        stderr = proc.stderr.strip()
        if "dubious ownership" in stderr:
            msg = f"git refuses the repository at {self.cwd} (it belongs to another user)"
            hint = f"run: git config --global --add safe.directory {self.cwd}; or pass --ref"
            raise GitUnavailable(msg, hint)
        msg = f"{self.cwd} is not in a git repository, so the ref to tag is unknown"
        raise GitUnavailable(msg, "run hubci inside a git clone, or pass --ref refs/tags/v1.2.3")

    def symbolic_head(self) -> str | None:
        return self.out("symbolic-ref", "-q", "HEAD")

    def head_decorations(self) -> list[str]:
        """The ``%D`` decorations of HEAD: ``HEAD``, ``tag: v1``, ``origin/main``, ``main``…"""
        text = self.out("show", "-s", "--pretty=%D", "HEAD")
        return [part.strip() for part in text.split(",") if part.strip()] if text else []

    def remotes(self) -> list[str]:
        text = self.out("remote")
        return text.split() if text else []

    def rev(self, rev: str) -> str | None:
        """The commit sha ``rev`` names, or None."""
        return self.out("rev-parse", "-q", "--verify", f"{rev}^{{commit}}")

    def ref_exists(self, ref: str) -> bool:
        return self.out("show-ref", "-q", "--verify", ref) is not None

    def commit_date(self, sha: str) -> datetime | None:
        text = self.out("show", "-s", "--format=%cI", sha, "--")
        if not text:
            return None
        try:
            return datetime.fromisoformat(text.splitlines()[0])
        except ValueError:
            return None

    def remote_default_branch(self) -> str | None:
        """The branch a remote's HEAD points at (``origin`` first), e.g. ``main``."""
        remotes = self.remotes()
        ordered = (["origin"] if "origin" in remotes else []) + [
            r for r in remotes if r != "origin"
        ]
        for remote in ordered:
            target = self.out("symbolic-ref", "-q", f"refs/remotes/{remote}/HEAD")
            prefix = f"refs/remotes/{remote}/"
            if target and target.startswith(prefix):
                return target[len(prefix) :]
        return None
