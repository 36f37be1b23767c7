"""Benchmark: discovery + change detection + validation over a 500-executor git repository.

Run: ``.venv/bin/python bench/bench_matrix.py [--executors 500] [--repeat 5]``

Generates a monorepo in a temporary folder (4/5 of the executors with config.yml, 1/5 without,
plus shared files and non-executor Python packages), commits it, tags the commit, then changes
one executor, adds an untracked file to another and touches a shared file. It times, best of
``--repeat`` runs:

* discovery of every executor (``build_matrix`` without a ref);
* discovery + change detection (``build_matrix`` with ``--changed-since`` the tag);
* validation of every executor (``hubci.validate.validate_folder``, what each push job runs);
* the three together (the figure with the 2 s target), and the ``hubci matrix`` command end to
  end in a fresh interpreter (process start and imports included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hubci.matrix.plan import MatrixRequest, build_matrix
from hubci.validate import validate_folder

T = TypeVar("T")
TARGET_SECONDS = 2.0
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

EXECUTOR_PY = '''"""Executor number {i}."""

from jina import DocumentArray, Executor, requests


class {cls}(Executor):
    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    @requests(on="/index")
    def index(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["scale"] = self.scale
'''
CONFIG_YML = "jtype: {cls}\npy_modules:\n  - executor.py\nmetas:\n  name: {name}\n"
DOCKERFILE = (
    "FROM jinaai/jina:3-py38-perf\nCOPY . /workspace\nWORKDIR /workspace\n"
    "RUN pip install -r requirements.txt\n"
    'ENTRYPOINT ["jina", "executor", "--uses", "config.yml"]\n'
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def generate(root: Path, count: int) -> None:
    for i in range(count):
        group = f"group{i % 10}"
        cls = f"Exec{i:04d}"
        folder = root / "executors" / group / f"exec-{i:04d}"
        _write(folder / "executor.py", EXECUTOR_PY.format(i=i, cls=cls))
        _write(folder / "requirements.txt", "numpy>=1.21\nscipy\n")
        _write(folder / "README.md", f"# {cls}\n\nDoes thing {i}.\n")
        _write(folder / "tests" / "test_exec.py", "def test_ok() -> None:\n    assert True\n")
        if i % 5:
            _write(folder / "config.yml", CONFIG_YML.format(cls=cls, name=f"exec-{i:04d}"))
            _write(folder / "Dockerfile", DOCKERFILE)
            _write(folder / ".gitignore", "__pycache__/\n*.pyc\ndata/\n")
    for j in range(20):  # plain Python packages: candidates that are not executors
        _write(root / "libs" / f"lib{j}" / "__init__.py", f"VALUE = {j}\n")
        _write(root / "libs" / f"lib{j}" / "core.py", "def run() -> int:\n    return 1\n")
    _write(root / "shared" / "base.Dockerfile", "FROM python:3.11-slim\n")
    _write(root / ".gitignore", ".venv/\n__pycache__/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "monorepo")
    _git(root, "tag", "v1.0.0")
    _write(
        root / "executors/group3/exec-0003/executor.py",
        EXECUTOR_PY.format(i=3, cls="Exec0003") + "\n# changed\n",
    )
    _git(root, "commit", "-q", "-am", "change one executor")
    _write(root / "executors/group7/exec-0007/notes.txt", "untracked\n")
    _write(root / "shared/base.Dockerfile", "FROM python:3.12-slim\n")


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``repeat`` runs, and the last run's value."""
    times: list[float] = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hubci-bench-matrix-") as tmp:
        root = Path(tmp) / "monorepo"
        root.mkdir()
        generate(root, args.executors)
        everything = MatrixRequest(root=root)
        changed = MatrixRequest(root=root, changed_since="v1.0.0")

        t_discover, _ = best_of(args.repeat, lambda: build_matrix(everything))
        t_changes, changed_result = best_of(args.repeat, lambda: build_matrix(changed))
        folders = [root / e.path for e in build_matrix(everything).entries]
        assert len(folders) == args.executors, f"discovered {len(folders)} executors"

        def validate_all() -> int:
            return sum(not validate_folder(f).ok() for f in folders)

        t_validate, failed = best_of(max(1, args.repeat // 2), validate_all)
        cli = [sys.executable, "-m", "hubci", "matrix", "--changed-since", "v1.0.0", str(root)]
        t_cli, _ = best_of(
            args.repeat, lambda: subprocess.run(cli, check=True, capture_output=True, cwd=root)
        )

    total = t_changes + t_validate
    figures = {
        "executors": len(folders),
        "selected_by_change": len(changed_result.entries),
        "discovery_s": round(t_discover, 3),
        "discovery_and_changes_s": round(t_changes, 3),
        "validation_s": round(t_validate, 3),
        "validation_failed": failed,
        "total_s": round(total, 3),
        "hubci_matrix_cli_s": round(t_cli, 3),
        "target_s": TARGET_SECONDS,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:26} {value}")
        verdict = "under" if total < TARGET_SECONDS else "OVER"
        print(
            f"discovery + change detection + validation: {total:.3f}s ({verdict} {TARGET_SECONDS}s)"
        )
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
