""".dockerignore semantics checked against a reference: docker-py's port of Docker's matcher.

docker-py (``docker.utils.build.exclude_paths``) mirrors moby's pattern matcher. It checks parent
folders only at the pattern's own depth, which differs from today's Docker for ``**`` patterns,
and it decides whether to enter an excluded folder by a literal prefix test, which differs for
``!`` patterns with wildcards; the generated rules avoid exactly those two cases, so on everything
else hubci and the reference must pick the same files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from docker.utils.build import exclude_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.bundle import collect_files

NAMES = ["a", "b", "c.txt", "d.py", "Dockerfile"]
WILDCARDS = ["*", "*.txt", "?", "[ab]", "d.*"]
LITERAL = st.sampled_from(NAMES)


def no_clashes(paths: frozenset[tuple[str, ...]]) -> bool:
    return not any(p[:n] in paths for p in paths for n in range(1, len(p)))


TREE = st.frozensets(st.lists(LITERAL, min_size=1, max_size=3).map(tuple), min_size=1, max_size=10)


@st.composite
def pattern(draw: st.DrawFn, tree: frozenset[tuple[str, ...]]) -> str:
    """A rule, often built from a path of the tree (or a prefix: a folder), so that rules do
    match folders and files; positive rules may swap a component for a wildcard."""
    negate = draw(st.booleans())
    known = st.sampled_from(sorted(tree)).flatmap(
        lambda p: st.integers(1, len(p)).map(lambda n: list(p[:n]))
    )
    parts = draw(known | st.lists(LITERAL, min_size=1, max_size=3))
    if not negate and draw(st.booleans()):
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = draw(st.sampled_from(WILDCARDS))
    lead = draw(st.sampled_from(["", "/", "./"]))
    trail = draw(st.sampled_from(["", "/"]))
    return ("!" if negate else "") + lead + "/".join(parts) + trail


@settings(max_examples=200, deadline=None)
@given(tree=TREE.filter(no_clashes), data=st.data())
def test_same_files_as_the_reference_matcher(
    tree: frozenset[tuple[str, ...]], data: st.DataObject
) -> None:
    patterns = data.draw(st.lists(pattern(tree), min_size=1, max_size=5))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".gitignore").write_text("")  # no built-in default list: .dockerignore alone
        (root / ".dockerignore").write_text("\n".join(patterns) + "\n")
        for parts in tree:
            path = root.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        reference = sorted(
            rel for rel in exclude_paths(str(root), list(patterns)) if (root / rel).is_file()
        )
        ours = [entry.relpath for entry in collect_files(root).entries]
        assert ours == reference, patterns
