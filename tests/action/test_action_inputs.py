"""Every input of action.yml is read, and bad values are one-line usage errors."""

from __future__ import annotations

import pytest

from hubci.action.inputs import INPUTS, env_name, read_inputs, secret_values
from hubci.errors import UsageError

#: A valid, non-default value for every input.
CHANGED = {
    "path": "a,b",
    "mode": "rehearse",
    "tags": "type=sha",
    "flavor": "latest=false",
    "protected-tags": "type=semver,pattern={{version}}",
    "platforms": "linux/arm64",
    "build-env": "A=1",
    "dockerfile": "Dockerfile.gpu",
    "visibility": "private",
    "name": "Other",
    "force-update": "abcd1234",
    "secret": "s3cr3t-value",
    "token": "t0ken-value",
    "hub-url": "http://127.0.0.1:1",
    "wait": "false",
    "timeout": "60",
    "no-cache": "true",
    "skip-unchanged": "always",
    "verbose": "true",
    "github-token": "gh-token-value",
    "commit-status": "false",
    "pr-comment": "false",
}


def test_every_input_has_a_test_value() -> None:
    assert set(CHANGED) == set(INPUTS)


def test_hyphens_are_kept_in_env_names() -> None:
    assert env_name("build-env") == "INPUT_BUILD-ENV"
    assert env_name("protected-tags") == "INPUT_PROTECTED-TAGS"


@pytest.mark.parametrize("name", INPUTS)
def test_every_input_is_consumed(name: str) -> None:
    empty = {env_name(n): "" for n in INPUTS}
    assert read_inputs({**empty, env_name(name): CHANGED[name]}) != read_inputs(empty)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("mode", "deploy", "input mode: 'deploy' is not one of auto, push, validate, rehearse"),
        ("visibility", "secret", "input visibility: 'secret' is not public or private"),
        ("timeout", "soon", "input timeout: 'soon' is not a number of seconds"),
        ("timeout", "nan", "input timeout: 'nan' is not a number of seconds"),
        ("timeout", "-5", "input timeout: '-5' is not a number of seconds"),
        ("no-cache", "yes", "input no-cache: 'yes' is not a boolean"),
        (
            "skip-unchanged",
            "sometimes",
            "input skip-unchanged: 'sometimes' is not auto, always or never",
        ),
    ],
)
def test_bad_values(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        read_inputs({env_name(name): value})
    assert info.value.message == message


def test_secret_values_lists_build_env_values() -> None:
    env = {
        env_name("build-env"): "A=one=two\n B=three\npasted-value",
        env_name("token"): "tok ",
        env_name("hub-url"): "https://me:pa55word@hub.example",
    }
    assert sorted(secret_values(env), key=lambda kv: kv[1]) == [
        (None, "me:pa55word"),
        ("A", "one=two"),
        (None, "pa55word"),
        (None, "pasted-value"),
        ("B", "three"),
        (None, "tok"),
    ]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("--platform: unknown platform 'x'", "input platforms: unknown platform 'x'"),
        ("--dockerfile 'D' does not exist", "input dockerfile 'D' does not exist"),
        ("--tags line 1: bad", "input tags line 1: bad"),
        ("--build-env: 'lower' is not valid", "input build-env: 'lower' is not valid"),
        ("--jobs 0 is not allowed", "--jobs 0 is not allowed"),  # not an Action input
        ("--platforms-x: y", "--platforms-x: y"),
        ("no option here --platform", "no option here --platform"),
    ],
)
def test_push_errors_name_the_action_input(message: str, expected: str) -> None:
    from hubci.action.run import as_input_names

    assert as_input_names(message) == expected
