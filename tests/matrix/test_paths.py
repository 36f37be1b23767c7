"""expand_paths: plain folders and glob patterns for a multi-executor push."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubci.errors import UsageError
from hubci.executor.paths import expand_paths, split_items
from tests.matrix.gitrepo import Repo


@pytest.fixture
def tree(repo: Repo) -> Path:
    repo.executor("execs/a", "A")
    repo.executor("execs/b", "B", config=False)
    repo.executor("execs/b/sub", "Sub")  # inside b: part of its bundle
    repo.write("execs/notes/README.md", "# not an executor\n")
    repo.write("execs/README.md", "# a file\n")
    repo.executor("execs/tests/fixture", "Fixture")
    repo.executor("execs/.hidden", "Hidden")
    repo.executor("more/c", "C")
    return repo.path


def _rel(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root.resolve()).as_posix() for p in paths]


def test_patterns_match_executor_folders_only(tree: Path) -> None:
    assert _rel(expand_paths(["execs/*"], tree), tree) == ["execs/a", "execs/b"]
    assert _rel(expand_paths(["**"], tree), tree) == ["execs/a", "execs/b", "more/c"]


def test_plain_paths_keep_their_order_and_are_kept_once(tree: Path) -> None:
    found = expand_paths(["more/c", "execs/*", "execs/a/", str(tree / "more" / "c")], tree)
    assert _rel(found, tree) == ["more/c", "execs/a", "execs/b"]


def test_a_named_folder_is_kept_even_if_it_is_not_an_executor(tree: Path) -> None:
    assert _rel(expand_paths(["execs/notes"], tree), tree) == ["execs/notes"]


def test_absolute_pattern(tree: Path) -> None:
    assert _rel(expand_paths([f"{tree}/more/*"], tree), tree) == ["more/c"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["nope/*"], "'nope/*' matches no executor folder"),
        (["execs/notes*"], "'execs/notes*' matches no executor folder"),
        (["missing"], "missing does not exist"),
        (["execs/README.md"], "execs/README.md is not a folder"),
        ([], "no executor folder given"),
    ],
)
def test_bad_items(tree: Path, items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        expand_paths(items, tree)
    assert info.value.message == message


def test_split_items() -> None:
    assert split_items(["a, b\n  c\n\n", "d"]) == ["a", "b", "c", "d"]
