"""The literal prefilter of the .gitignore matcher never hides a match.

:class:`GitRules` compiles a pattern only when the path holds the pattern's required literal;
for every pattern pathspec translates and every path its regex matches, that literal must be in
the path (otherwise a file git ignores would be bundled). Generated from an alphabet rich in
gitignore syntax: wildcards, classes, escapes, negation, anchors and spaces.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hubci.bundle.ignore import (
    GitPattern,
    GitRules,
    _translate,
    load_rules,
    matcher_source,
    required_literal,
)
from hubci.findings import Finding

PATTERN = st.text(alphabet="ab.*?[]!/\\ -^", min_size=1, max_size=10)
PATH = st.text(alphabet="ab./ -!*?[]\\^", min_size=1, max_size=12)


def translate(text: str) -> GitPattern | None:
    """The pattern as the bundle's walk takes it (None: skipped as invalid, or a comment)."""
    translated = _translate(".gitignore", [(1, text)], [])
    return translated[0] if translated else None


@settings(max_examples=3000, deadline=None)
@given(text=PATTERN, paths=st.lists(PATH, min_size=1, max_size=8))
@example(text="*.py[cod]", paths=["a.pyc", "b/c.pyo", "a.py"])
@example(text="docs/_build/", paths=["docs/_build/", "x/docs/_build/"])
@example(text="a\\ ", paths=["a "])
@example(text="!a*b", paths=["ab", "a/b"])
@example(text=" a", paths=[" a", "b/ a"])
@example(text="a/**/", paths=["a/b/", "a/"])
def test_a_match_always_holds_the_literal(text: str, paths: list[str]) -> None:
    pattern = translate(text)
    assume(pattern is not None)
    assert pattern is not None
    source, _ = matcher_source(pattern)
    literal = required_literal(text)
    for path in paths:
        if re.search(source, path):
            assert literal in path, (text, path, literal)


@settings(max_examples=500, deadline=None)
@given(texts=st.lists(PATTERN, min_size=1, max_size=6), paths=st.lists(PATH, max_size=8))
def test_lazy_rules_decide_as_eager_ones(texts: list[str], paths: list[str]) -> None:
    """The same decisions as searching every pattern's regex, last match wins."""
    patterns = [p for p in map(translate, texts) if p is not None]
    rules = GitRules(patterns)
    for path in paths:
        expected = False
        for pattern in reversed(patterns):
            source, prefix = matcher_source(pattern)
            found = re.search(source, path)
            if found is None or (prefix and path.endswith("/") and found.end() == len(path)):
                continue
            expected = pattern.include
            break
        assert rules.ignores(path) == expected, (texts, path)


def test_a_standard_template_compiles_few_patterns() -> None:
    lines = ["__pycache__/", "*.py[cod]", "build/", "*.egg-info/", ".env", "*.log", "docs/_build/"]
    rules = GitRules([p for p in map(translate, lines) if p is not None])
    for path in ("executor.py", "config.yml", "tests/", "tests/test_exec.py", "README.md"):
        assert not rules.ignores(path)
    compiled = [rule for rule in rules._last_first if rule._regex is not None]
    assert [rule.pattern.text for rule in compiled] == ["*.py[cod]"]
    assert rules.ignores("x.pyc")
    assert rules.ignores("a/__pycache__/")


def test_a_class_re_refuses_is_reported_not_a_crash() -> None:
    problems: list[Finding] = []
    kept = _translate(".gitignore", [(3, "[z-a]"), (4, "[[]"), (5, "*.log")], problems)
    assert [p.text for p in kept] == ["[[]", "*.log"]
    assert len(problems) == 1
    assert problems[0].line == 3
    assert "[z-a]" in problems[0].message


def test_a_dockerignore_class_re_refuses_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("[z-a]\n[[]\n*.log\n")
    (tmp_path / "a.log").write_text("x")
    (tmp_path / "[").write_text("x")
    rules = load_rules(tmp_path)
    assert [(p.line, p.file) for p in rules.problems] == [(1, ".dockerignore")]
    assert rules.ignores_file("a.log")
    assert rules.ignores_file("[")
