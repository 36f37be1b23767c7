"""Checking push fields: properties over generated inputs, and the exact answers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubci import rules
from hubci.server.pushreq import Rejection, parse_build_env, parse_push, parse_tags

TAGS = st.from_regex(rules.TAG, fullmatch=True)
VALUES = st.text(min_size=6, max_size=40).filter(lambda v: v.strip() == v and "\\" not in v)


@given(st.lists(TAGS, min_size=1, max_size=6))
def test_valid_tags_round_trip(tags: list[str]) -> None:
    assert parse_tags(",".join(tags), "tags") == list(dict.fromkeys(tags))
    assert parse_tags(" , ".join(tags) + ",", "tags") == list(dict.fromkeys(tags))


@given(st.dictionaries(st.text(min_size=1, max_size=12), VALUES, min_size=1, max_size=4))
def test_build_env_values_never_appear_in_errors(env: dict[str, str]) -> None:
    valid = all(rules.BUILD_ENV_NAME.fullmatch(k) for k in env)
    if valid:
        assert parse_build_env(json.dumps(env)) == env
        return
    with pytest.raises(Rejection) as info:
        parse_build_env(json.dumps(env))
    for value in env.values():
        if all(value not in k for k in env):  # a value that is also part of a name may show
            assert value not in info.value.readable


def test_push_defaults_and_update_needs_a_secret() -> None:
    fields = {"id": "Greeter", "md5sum": "A" * 32, "public": "true", "private": "FALSE"}
    push = parse_push(fields, update=False, architecture="x86_64")
    assert push.tags == ["latest"]
    assert push.protected == []
    assert push.public
    assert not push.private
    assert push.md5sum == "a" * 32
    assert push.platforms == ["linux/amd64"]
    only_protected = parse_push({**fields, "immutableTags": "1.0"}, update=False, architecture="")
    assert only_protected.tags == []
    with pytest.raises(Rejection, match="Missing secret"):
        parse_push(fields, update=True, architecture=None)
    with pytest.raises(Rejection, match="Missing md5sum"):
        parse_push({"id": "Greeter"}, update=False, architecture=None)
    with pytest.raises(Rejection, match="Missing id"):
        parse_push({"md5sum": "0" * 32}, update=False, architecture=None)
    update = parse_push({**fields, "id": "w7qckiqy", "secret": "s"}, update=True, architecture="")
    assert update.ident == "w7qckiqy"
    assert update.secret == "s"
