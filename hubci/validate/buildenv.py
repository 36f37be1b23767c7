"""Build-env checks: the references in requirements.txt against the ``--build-env`` names.

Values are secrets: no message, hint or finding here ever contains one.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubci import rules
from hubci.findings import Finding
from hubci.findings.codes import finding
from hubci.validate.envvars import EnvRef
from hubci.validate.requirements import REQUIREMENTS_FILE, TOKEN

_REF_CODES = {"has no braces": "HUB401", "is not closed with '}'": "HUB403"}


def _invalid_name(name: str, value: str | None, position: int) -> str:
    """The HUB405 message; the name is shown only when it cannot be a pasted value.

    An item without ``=`` (``--build-env $TOKEN`` instead of ``--build-env TOKEN=$TOKEN``) may be
    the value itself, so it is named by its position only, as is anything token-like or long.
    """
    if value is None or TOKEN.search(name) or len(name) > 64:
        return f"--build-env item {position} is not a valid build-env name (not shown: " + (
            "given without `=`, it may be a value)" if value is None else "it looks like one)"
        )
    return f"--build-env name {name!r} is not a valid build-env name"


def _ref_finding(ref: EnvRef, relname: str) -> Finding:
    code = _REF_CODES.get(ref.problem or "", "HUB402")
    if code == "HUB401":
        message = f"${ref.name} {ref.problem}: the Hub substitutes only ${{{ref.name}}}"
        hint = f"write ${{{ref.name.upper()}}}"
    elif code == "HUB403":
        message = "`${` " + (ref.problem or "is not closed")
        hint = None
    else:
        message = f"the reference ${{{ref.name}}} {ref.problem}: the Hub will not substitute it"
        hint = None
    return finding(code, message, file=relname, line=ref.line, col=ref.col, hint=hint)


def check_build_env(
    refs: list[EnvRef],
    build_env: Mapping[str, str | None] | None,
    *,
    require_values: bool = False,
    relname: str = REQUIREMENTS_FILE,
) -> list[Finding]:
    """Findings for ``refs`` (from :func:`find_env_refs`) and the provided names.

    ``build_env`` is None when no ``--build-env`` was given at all; a value of None means the
    name was given without a value (fine for validate, an error with ``require_values``).
    """
    out = [_ref_finding(ref, relname) for ref in refs if not ref.valid]
    first_use: dict[str, EnvRef] = {}
    for ref in refs:
        if ref.valid:
            first_use.setdefault(ref.name, ref)
    if build_env is None:
        if first_use:
            names = ", ".join(f"${{{n}}}" for n in first_use)
            flags = " ".join(f"--build-env {n}=VALUE" for n in first_use)
            first = next(iter(first_use.values()))
            out.append(
                finding(
                    "HUB407",
                    f"{relname} uses {names}: a push must provide "
                    f"{'it' if len(first_use) == 1 else 'them'}",
                    file=relname,
                    line=first.line,
                    col=first.col,
                    hint=f"push with {flags}",
                )
            )
        return out
    for position, (name, value) in enumerate(build_env.items(), start=1):
        if not rules.BUILD_ENV_NAME.match(name):
            out.append(finding("HUB405", _invalid_name(name, value, position)))
        elif require_values and value is None:
            out.append(finding("HUB408", f"--build-env {name} has no value"))
    for name, ref in first_use.items():
        if name not in build_env:
            out.append(
                finding(
                    "HUB404",
                    f"${{{name}}} is used in {relname} but not given with --build-env",
                    file=relname,
                    line=ref.line,
                    col=ref.col,
                    hint=f"add --build-env {name}=VALUE",
                )
            )
    for name in build_env:
        if rules.BUILD_ENV_NAME.match(name) and name not in first_use:
            out.append(
                finding(
                    "HUB406",
                    f"--build-env {name} is not used in {relname}",
                    hint=f"remove --build-env {name}, or reference it as ${{{name}}} in {relname}",
                )
            )
    return out
