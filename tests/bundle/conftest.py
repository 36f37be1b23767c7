"""Helpers for the bundle tests: build executor folders from a dict of path -> content."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

Tree = Mapping[str, "str | bytes"]
MakeTree = Callable[[Tree], Path]


def write_tree(root: Path, files: Tree) -> Path:
    """Create ``files`` (relative POSIX path -> text or bytes) below ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_tree(tmp_path: Path) -> MakeTree:
    """An executor folder ``tmp_path/ex`` holding the given files."""

    def make(files: Tree) -> Path:
        return write_tree(tmp_path / "ex", files)

    return make
