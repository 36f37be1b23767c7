"""Build-env references: the forms the Hub substitutes and the ones it silently skips."""

from __future__ import annotations

import pytest

from hubci.validate.envvars import EnvRef, find_env_refs


def test_valid_braced_references_with_line_and_column() -> None:
    text = "numpy==${NUMPY_VERSION}\n\ntorch==${TORCH_VERSION} # ${IN_COMMENT}\n"
    assert find_env_refs(text) == [
        EnvRef("NUMPY_VERSION", 1, 8, True),
        EnvRef("TORCH_VERSION", 3, 8, True),
        EnvRef("IN_COMMENT", 3, 27, True),
    ]


@pytest.mark.parametrize(
    ("text", "name", "col", "problem"),
    [
        ("x==$VERSION", "VERSION", 4, "has no braces"),
        ("x==${version}", "version", 4, "has lower-case or non-ASCII letters"),
        ("x==${Mixed}", "Mixed", 4, "has lower-case or non-ASCII letters"),
        ("x==${A-B}", "A-B", 4, "contains '-'"),
        ("x==${ A }", " A ", 4, "has spaces inside the braces"),
        ("x==${_A}", "_A", 4, "starts with '_'"),
        ("x==${}", "", 4, "is empty"),
        ("x==${ÄB}", "ÄB", 4, "has lower-case or non-ASCII letters"),
        ("x==${A.B}", "A.B", 4, "contains '.'"),
        ("x==${VERSION", "VERSION", 4, "is not closed with '}'"),
        ("x==${", "", 4, "is not closed with '}'"),
    ],
)
def test_invalid_forms_are_reported_with_their_problem(
    text: str, name: str, col: int, problem: str
) -> None:
    assert find_env_refs(text) == [EnvRef(name, 1, col, False, problem)]


def test_leading_digit_is_valid_like_the_rules_say() -> None:
    assert find_env_refs("${1ST}") == [EnvRef("1ST", 1, 1, True)]


def test_comment_lines_are_skipped_but_trailing_comments_are_scanned() -> None:
    text = "# uses ${IGNORED} and $ALSO_IGNORED\n  # indented ${IGNORED}\npkg # ${NEEDED}\n"
    assert find_env_refs(text) == [EnvRef("NEEDED", 3, 7, True)]


def test_forms_the_hub_skips_are_harmless_in_a_trailing_comment() -> None:
    # pip never sees the comment; the Hub would still demand a valid ${NAME} there
    text = "torch==2.1  # set $TORCH_HOME or ${cache} first, ${TOKEN}\nx==$V # $W\nurl#egg=$E\n"
    assert find_env_refs(text) == [
        EnvRef("TOKEN", 1, 50, True),
        EnvRef("V", 2, 4, False, "has no braces"),
        EnvRef("E", 3, 9, False, "has no braces"),  # `#` without whitespace: not a comment
    ]


@pytest.mark.parametrize("text", ["price: 5$", "a $$ b", "$1", "cost $ 5", "x==1.0"])
def test_a_dollar_that_is_not_a_reference(text: str) -> None:
    assert find_env_refs(text) == []


def test_several_references_on_one_line_and_after_an_unclosed_one() -> None:
    refs = find_env_refs("${A}${B}$C ${D")
    assert [(r.name, r.col, r.valid) for r in refs] == [
        ("A", 1, True),
        ("B", 5, True),
        ("C", 9, False),
        ("D", 12, False),
    ]
