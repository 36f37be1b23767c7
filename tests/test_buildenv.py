"""The one build-env grammar (hubci.buildenv): push, build, validate and the Action."""

from __future__ import annotations

import pytest

from hubci.buildenv import parse_build_env, parse_items
from hubci.errors import UsageError


def test_items() -> None:
    items = ("A=1", "B=x=y", "C", "D", "E=", "A=2")
    assert parse_items(items, {"C": "from-env"}) == {
        "A": "2",
        "B": "x=y",
        "C": "from-env",
        "D": None,  # unknown here: fine for validate, an error for a push
        "E": "",
    }


def test_a_push_needs_every_value_and_valid_keys() -> None:
    env = parse_build_env(("A=1", "C"), {"C": "from-env"})
    assert {k: v.reveal() for k, v in env.items()} == {"A": "1", "C": "from-env"}
    with pytest.raises(UsageError, match=r"--build-env D: the environment variable D is not set"):
        parse_build_env(("D",), {})
    with pytest.raises(UsageError, match=r"input build-env: 'lower' is not a valid build-env name"):
        parse_build_env(("lower=1",), {}, where="input build-env")


def test_a_pasted_value_is_named_by_position_only() -> None:
    with pytest.raises(UsageError) as info:
        parse_build_env(("A=1", "ghp_pasted-token-value"), {})
    assert "item 2" in info.value.message
    assert "ghp_" not in info.value.format_message()
