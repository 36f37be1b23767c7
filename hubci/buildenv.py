"""The one build-env grammar, for ``hubci push``, ``hubci build``, ``hubci validate`` and the
Action's ``build-env`` input alike.

An item is ``KEY=VALUE`` (the value may hold ``=``, and may be empty), or ``KEY`` alone, which
takes the value of the environment variable ``KEY`` (as ``docker build --build-arg KEY`` does;
in the Action, the step's ``env:``). The last item of a key wins. A key is upper-case letters,
digits and ``_``, not starting with ``_`` (:data:`hubci.rules.BUILD_ENV_NAME`).

What a command then needs differs, not the grammar: a push or a build needs every value (a
``KEY`` whose variable is not set is a usage error), while ``hubci validate`` only needs the
names (a value it cannot know is fine). An item without ``=`` that is no valid key is named by
its position only: it may be a value pasted without its key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hubci import rules
from hubci.errors import UsageError
from hubci.secret import Secret

NAME_HINT = "use upper-case letters, digits and _, not starting with _ (KEY=VALUE, or KEY alone)"


def parse_items(items: Sequence[str], env: Mapping[str, str]) -> dict[str, str | None]:
    """``{KEY: value}`` in the grammar; None for a ``KEY`` whose variable is not set. Keys are
    not checked here (``hubci validate`` reports a bad one as a finding)."""
    out: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        out[key] = value if sep else env.get(key)
    return out


def parse_build_env(
    items: Sequence[str], env: Mapping[str, str], *, where: str = "--build-env"
) -> dict[str, Secret]:
    """Every value known, every key valid: what a push or a build sends (``where`` names the
    option or input in errors)."""
    out: dict[str, Secret] = {}
    for position, item in enumerate(items, start=1):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not rules.BUILD_ENV_NAME.match(key):
            if not sep:  # perhaps a value pasted without its key: never shown
                msg = f"{where}: item {position} is not KEY=VALUE and not a valid build-env name"
                raise UsageError(msg, NAME_HINT)
            shown = key if len(key) <= 40 else key[:40] + "…"
            raise UsageError(f"{where}: {shown!r} is not a valid build-env name", NAME_HINT)
        if not sep:
            if key not in env:
                msg = f"{where} {key}: the environment variable {key} is not set"
                raise UsageError(msg, f"export {key}, or give {key}=VALUE")
            value = env[key]
        out[key] = Secret(value, key=key)
    return out
