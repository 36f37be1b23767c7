"""Properties over generated folders: determinism and a lossless round trip."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.bundle import collect_files, safe_extract, write_bundle

NAME = st.text(alphabet="abcXYZ019_-.é名", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..", ".git", ".jina", ".gitignore", ".dockerignore")
)
PATH = st.lists(NAME, min_size=1, max_size=3).map(tuple)
FILE = st.tuples(st.binary(max_size=3000) | st.text(max_size=2000).map(str.encode), st.booleans())


def no_clashes(tree: dict[tuple[str, ...], tuple[bytes, bool]]) -> bool:
    """No path is also the folder of another path."""
    paths = set(tree)
    return not any(p[:n] in paths for p in paths for n in range(1, len(p)))


TREE = st.dictionaries(PATH, FILE, min_size=1, max_size=12).filter(no_clashes)


def build(root: Path, tree: dict[tuple[str, ...], tuple[bytes, bool]], order: list[int]) -> None:
    root.mkdir()
    (root / ".gitignore").write_text("")  # no default ignore list: every generated file counts
    items = list(tree.items())
    for index in order:
        parts, (content, executable) = items[index]
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o750 if executable else 0o640)
        os.utime(path, (1_500_000_000 + index * 3600, 1_500_000_000 + index * 3600))


@settings(max_examples=25, deadline=None)
@given(tree=TREE, data=st.data())
def test_same_files_same_md5_and_a_lossless_round_trip(
    tree: dict[tuple[str, ...], tuple[bytes, bool]], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(tree))))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        build(base / "one", tree, list(range(len(tree))))
        build(base / "two", tree, list(order))
        first = write_bundle(collect_files(base / "one"), base / "one.zip")
        second = write_bundle(collect_files(base / "two"), base / "two.zip")
        assert first.md5 == second.md5
        assert first.files == len(tree) + 1  # plus .gitignore

        names = safe_extract(
            first.path, base / "out", max_total_bytes=10**8, max_entries=100, max_ratio=1000.0
        )
        assert names == sorted(["/".join(p) for p in tree] + [".gitignore"])
        for parts, (content, executable) in tree.items():
            out = (base / "out").joinpath(*parts)
            assert out.read_bytes() == content
            assert (out.stat().st_mode & 0o777) == (0o755 if executable else 0o644)
