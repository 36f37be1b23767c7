"""The Action's inputs: read once from ``INPUT_*`` into a typed record.

The runner exports every input declared in ``action.yml`` as ``INPUT_<ID>`` with the id
upper-cased and hyphens kept (``INPUT_BUILD-ENV``); an unset input arrives empty.
``tests/action/test_action_inputs.py`` keeps :data:`INPUTS` and ``action.yml`` identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from hubci import rules
from hubci.errors import UsageError

Mode = Literal["auto", "push", "validate", "rehearse"]
MODES: tuple[Mode, ...] = ("auto", "push", "validate", "rehearse")

#: Every input of action.yml, in its order.
INPUTS: tuple[str, ...] = (
    "path",
    "mode",
    "tags",
    "flavor",
    "protected-tags",
    "platforms",
    "build-env",
    "dockerfile",
    "visibility",
    "name",
    "force-update",
    "secret",
    "token",
    "hub-url",
    "wait",
    "timeout",
    "no-cache",
    "skip-unchanged",
    "verbose",
    "github-token",
    "commit-status",
    "pr-comment",
)

#: Every output of action.yml, in its order.
OUTPUTS: tuple[str, ...] = (
    "executor-id",
    "name",
    "owner",
    "uri",
    "docker-uri",
    "tags",
    "version",
    "task-id",
    "status",
    "visibility",
    "result-json",
)

_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


def env_name(input_id: str) -> str:
    """The variable the runner sets for an input (spaces become ``_``, hyphens stay)."""
    return "INPUT_" + input_id.replace(" ", "_").upper()


@dataclass(frozen=True)
class ActionInputs:
    paths: tuple[str, ...]
    mode: Mode
    tags: str
    flavor: str
    protected_tags: str
    platforms: str
    build_env: tuple[str, ...]  # KEY=VALUE lines
    dockerfile: str | None
    visibility: rules.Visibility | None
    name: str | None
    force_update: str | None
    secret: str | None
    token: str | None
    hub_url: str | None
    wait: bool
    timeout: float
    no_cache: bool
    skip_unchanged: rules.SkipUnchanged
    verbose: bool
    github_token: str | None
    commit_status: bool
    pr_comment: bool


def secret_values(env: Mapping[str, str]) -> list[tuple[str | None, str]]:
    """Every input value to mask, as (build-env key or None, value), read from the raw
    environment so it can be masked before any input is checked: token, secret, github-token,
    each build-env value (a build-env line without ``=`` as a whole, since it may be a value
    pasted without its key), and the credentials of a hub-url."""
    from hubci.output.urls import userinfo

    values: list[tuple[str | None, str]] = [
        (None, env.get(env_name(name), "").strip()) for name in ("token", "secret", "github-token")
    ]
    for line in env.get(env_name("build-env"), "").splitlines():
        key, eq, value = line.strip().partition("=")
        values.append((key.strip() or None, value) if eq else (None, key))
    credentials = userinfo(env.get(env_name("hub-url"), ""))
    if credentials:
        values.append((None, credentials))
        if ":" in credentials:
            values.append((None, credentials.partition(":")[2]))
    return [(k, v) for k, v in values if v.strip()]


def _bool(raw: Mapping[str, str], name: str) -> bool:
    value = raw[name]
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    msg = f"input {name}: {value!r} is not a boolean"
    raise UsageError(msg, f"use {name}: true or {name}: false")


def _split(value: str) -> tuple[str, ...]:
    items = (part.strip() for line in value.splitlines() for part in line.split(","))
    return tuple(item for item in items if item)


def read_inputs(env: Mapping[str, str]) -> ActionInputs:
    """Read and check every input; a bad value is a UsageError naming the input."""
    raw = {name: env.get(env_name(name), "").strip() for name in INPUTS}
    mode = raw["mode"] or "auto"
    if mode not in MODES:
        msg = f"input mode: {mode!r} is not one of {', '.join(MODES)}"
        raise UsageError(msg, "use mode: auto, push, validate or rehearse")
    visibility: rules.Visibility | None = None
    if raw["visibility"] == "public":
        visibility = "public"
    elif raw["visibility"] == "private":
        visibility = "private"
    elif raw["visibility"]:
        msg = f"input visibility: {raw['visibility']!r} is not public or private"
        raise UsageError(msg, "use visibility: public or visibility: private, or leave it empty")
    try:
        timeout = float(raw["timeout"] or rules.DEFAULT_TIMEOUT_SECONDS)
    except ValueError:
        timeout = -1.0
    if not math.isfinite(timeout) or timeout < 0:
        msg = f"input timeout: {raw['timeout']!r} is not a number of seconds"
        raise UsageError(msg, "use e.g. timeout: 3600 (0 waits forever)")
    skip = raw["skip-unchanged"] or "auto"
    if skip not in rules.SKIP_UNCHANGED:
        msg = f"input skip-unchanged: {skip!r} is not auto, always or never"
        raise UsageError(msg, "use skip-unchanged: auto (the default), always or never")
    # one item per line, in hubci.buildenv's grammar (KEY=VALUE, or KEY alone: the step's env)
    build_env = tuple(line.strip() for line in raw["build-env"].splitlines() if line.strip())
    return ActionInputs(
        paths=_split(raw["path"]) or (".",),
        mode=mode,
        tags=raw["tags"],
        flavor=raw["flavor"],
        protected_tags=raw["protected-tags"],
        platforms=",".join(_split(raw["platforms"])),
        build_env=build_env,
        dockerfile=raw["dockerfile"] or None,
        visibility=visibility,
        name=raw["name"] or None,
        force_update=raw["force-update"] or None,
        secret=raw["secret"] or None,
        token=raw["token"] or None,
        hub_url=raw["hub-url"] or None,
        wait=_bool(raw, "wait") if raw["wait"] else True,
        timeout=timeout,
        no_cache=_bool(raw, "no-cache") if raw["no-cache"] else False,
        skip_unchanged=cast("rules.SkipUnchanged", skip),
        verbose=_bool(raw, "verbose") if raw["verbose"] else False,
        github_token=raw["github-token"] or None,
        commit_status=_bool(raw, "commit-status") if raw["commit-status"] else True,
        pr_comment=_bool(raw, "pr-comment") if raw["pr-comment"] else True,
    )
