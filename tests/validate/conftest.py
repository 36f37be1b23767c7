"""Fixtures for the validate tests: fixture executors copied, one-off executor folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.validate.support import BASE, FIXTURES, MakeExecutor


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
    """Write a one-off executor folder: the minimal valid one, updated with ``files``."""
    counter = iter(range(1_000_000))

    def make(files: Mapping[str, str | bytes]) -> Path:
        folder = tmp_path / f"exec{next(counter)}"
        for rel, content in {**BASE, **files}.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return folder

    return make
