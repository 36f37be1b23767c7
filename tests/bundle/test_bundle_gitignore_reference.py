""".gitignore semantics checked against git itself (`git ls-files --others --exclude-standard`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.bundle import collect_files

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NAMES = ["a", "b", "c.txt", "d.py", "e.log"]
WILDCARDS = ["*", "*.txt", "?", "[ab]", "d.*", "**"]
LITERAL = st.sampled_from(NAMES)
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def no_clashes(paths: frozenset[tuple[str, ...]]) -> bool:
    return not any(p[:n] in paths for p in paths for n in range(1, len(p)))


TREE = st.frozensets(st.lists(LITERAL, min_size=1, max_size=3).map(tuple), min_size=1, max_size=10)


@st.composite
def pattern(draw: st.DrawFn, tree: frozenset[tuple[str, ...]]) -> str:
    """A rule, often built from a path of the tree (or a prefix: a folder), with wildcards."""
    known = st.sampled_from(sorted(tree)).flatmap(
        lambda p: st.integers(1, len(p)).map(lambda n: list(p[:n]))
    )
    parts = draw(known | st.lists(LITERAL, min_size=1, max_size=3))
    if draw(st.booleans()):
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = draw(st.sampled_from(WILDCARDS))
    lead = draw(st.sampled_from(["", "/"]))
    trail = draw(st.sampled_from(["", "/"]))
    negate = draw(st.booleans())
    return ("!" if negate else "") + lead + "/".join(parts) + trail


def git_selection(root: Path) -> list[str]:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        env=env,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name)


@settings(max_examples=80, deadline=None)
@given(tree=TREE.filter(no_clashes), data=st.data())
def test_same_files_as_git(tree: frozenset[tuple[str, ...]], data: st.DataObject) -> None:
    patterns = data.draw(st.lists(pattern(tree), min_size=1, max_size=5))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".gitignore").write_text("\n".join(patterns) + "\n")
        for parts in tree:
            path = root.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        ours = [entry.relpath for entry in collect_files(root).entries]
        assert ours == git_selection(root), patterns
