"""Helpers for the validate tests: the fixture executors and a folder factory."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "executors"

MakeExecutor = Callable[[Mapping[str, str | bytes]], Path]

CONFIG = "jtype: MyExecutor\nmetas:\n  name: MyExecutor\n  py_modules:\n    - executor.py\n"
EXECUTOR = (
    "from jina import Executor, requests\n\n\n"
    "class MyExecutor(Executor):\n"
    "    @requests\n"
    "    def foo(self, docs, **kwargs):\n"
    "        return docs\n"
)
BASE: dict[str, str | bytes] = {
    "config.yml": CONFIG,
    "executor.py": EXECUTOR,
    "requirements.txt": "numpy>=1.21\n",
}


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture executor into tmp_path (for tests that add files to it)."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest, symlinks=True)
        return dest

    return copy


@pytest.fixture
def make_executor(tmp_path: Path) -> MakeExecutor:
    """Write a one-off executor folder: the minimal valid one, updated with ``files``.

    A value of "" keeps an empty file; to drop a base file, map it to the bytes b"\\0drop".
    """
    counter = iter(range(1_000_000))

    def make(files: Mapping[str, str | bytes]) -> Path:
        folder = tmp_path / f"exec{next(counter)}"
        for rel, content in {**BASE, **files}.items():
            if content == b"\0drop":
                continue
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return folder

    return make
