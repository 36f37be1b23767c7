"""Helpers for the matrix tests: real git repositories in temp folders and executor folders."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Matrix Test",
    "GIT_AUTHOR_EMAIL": "matrix@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "Matrix Test",
    "GIT_COMMITTER_EMAIL": "matrix@example.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def executor_files(cls: str, *, name: str | None = None, config: bool = True) -> dict[str, str]:
    """An executor folder: executor.py with class ``cls``, and a config.yml unless told not to."""
    files = {"executor.py": f"from jina import Executor\n\n\nclass {cls}(Executor):\n    pass\n"}
    if config:
        metas = f"metas:\n  name: {name}\n" if name else ""
        files["config.yml"] = f"jtype: {cls}\npy_modules:\n  - executor.py\n{metas}"
    return files


@dataclass
class Repo:
    path: Path

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout.strip()

    def write(self, rel: str, text: str = "x\n") -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def executor(
        self, folder: str, cls: str, *, name: str | None = None, config: bool = True
    ) -> None:
        for rel, text in executor_files(cls, name=name, config=config).items():
            self.write(f"{folder}/{rel}" if folder else rel, text)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@dataclass
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]
