"""The finding codes of ``hubci validate``: one stable id each, with category and severity.

Ranges: HUB1xx config, HUB2xx python, HUB3xx requirements, HUB4xx build-env, HUB5xx dockerfile,
HUB7xx secrets in requirements.txt. Bundle-safety and secret-file findings come from
``hubci.bundle.bundle_findings`` and carry that module's codes. docs/validate.md lists them all.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from hubci.findings import Category, Finding, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


class Code(NamedTuple):
    """A finding code: its stable id, slug, category, severity and default hint."""

    code: str
    slug: str
    category: Category
    severity: Severity
    hint: str | None  # the default hint (how to fix)


_TABLE: Final[tuple[Code, ...]] = (
    # config
    Code(
        "HUB100",
        "no-executor",
        "config",
        E,
        "add config.yml with `jtype: <YourExecutor>` and `metas.py_modules`, or a root *.py "
        "(or executor/*.py) defining `class X(Executor)`",
    ),
    Code(
        "HUB101",
        "several-executors",
        "config",
        E,
        "add config.yml naming the executor to push in `jtype`, or keep one Executor per folder",
    ),
    Code("HUB102", "config-generated", "config", INFO, None),
    Code("HUB103", "yaml-error", "config", E, "fix the YAML syntax at this position"),
    Code(
        "HUB104",
        "config-not-mapping",
        "config",
        E,
        "write config.yml as a mapping, e.g. `jtype: MyExecutor`",
    ),
    Code(
        "HUB105",
        "jtype-missing",
        "config",
        E,
        "add `jtype: <ExecutorClassName>` at the top level of config.yml",
    ),
    Code(
        "HUB106",
        "jtype-invalid",
        "config",
        E,
        "set `jtype` to the Python class name of the executor, e.g. `jtype: MyExecutor`",
    ),
    Code(
        "HUB107",
        "py-modules-twice",
        "config",
        E,
        "keep py_modules in one place: under `metas` or at the top level, not both",
    ),
    Code(
        "HUB108",
        "py-modules-type",
        "config",
        E,
        "write py_modules as a path or a list of paths relative to the folder",
    ),
    Code(
        "HUB109",
        "py-module-outside",
        "config",
        E,
        "use a path relative to the executor folder, without `..`",
    ),
    Code(
        "HUB110",
        "py-module-missing",
        "config",
        E,
        "fix the path or add the file; paths are relative to the executor folder",
    ),
    Code(
        "HUB111",
        "py-modules-missing",
        "config",
        E,
        "list the executor's Python files in `metas.py_modules`, e.g. `- executor.py`",
    ),
    Code(
        "HUB112",
        "name-invalid",
        "config",
        E,
        "use letters, digits, `_` and `-`, starting with a letter or digit (at most 128)",
    ),
    Code("HUB113", "name-source", "config", INFO, None),
    Code(
        "HUB114",
        "unknown-key",
        "config",
        W,
        "remove it or move it under `with:` (executor arguments) or `metas:`",
    ),
    Code("HUB115", "duplicate-key", "config", W, "remove one of the two keys"),
    Code(
        "HUB116",
        "metas-not-mapping",
        "config",
        E,
        "write metas as a mapping, e.g. `metas: {name: MyExecutor}`",
    ),
    Code("HUB117", "file-unreadable", "config", E, "save the file as UTF-8 text"),
    Code(
        "HUB118",
        "config-yaml-name",
        "config",
        W,
        "rename it to config.yml",
    ),
    Code(
        "HUB119",
        "name-mismatch",
        "config",
        W,
        "use the same name in metas.name and manifest.yml, or drop one of them",
    ),
    Code(
        "HUB120",
        "hub-file-not-a-file",
        "config",
        E,
        "replace it with a regular file, or remove it: the Hub reads it as a file",
    ),
    # python
    Code(
        "HUB201",
        "jtype-not-found",
        "python",
        E,
        "define `class <jtype>(Executor)` in a py_modules file or a module it imports, or fix "
        "`jtype`",
    ),
    Code("HUB202", "syntax-error", "python", E, "fix the Python syntax"),
    Code(
        "HUB203",
        "not-an-executor",
        "python",
        W,
        "derive the class from jina's Executor: `class X(Executor)`",
    ),
    Code(
        "HUB204",
        "illegal-init",
        "python",
        E,
        "give __init__ its `self` parameter, e.g. `def __init__(self, **kwargs)`",
    ),
    Code(
        "HUB205",
        "import-cycle",
        "python",
        E,
        "break the cycle of relative imports between these modules",
    ),
    Code(
        "HUB206",
        "python-unparsable",
        "python",
        E,
        "make the file readable and split deeply nested expressions",
    ),
    # requirements
    Code(
        "HUB301",
        "bad-requirement",
        "requirements",
        E,
        "write a PEP 508 requirement (`name>=1.0`), a URL/VCS requirement (`name @ "
        "git+https://...`) or a pip option line",
    ),
    Code(
        "HUB302",
        "unknown-option",
        "requirements",
        E,
        "use an option pip accepts in requirements files (-r, -c, -e, -i, "
        "--extra-index-url, -f, --pre, ...)",
    ),
    Code(
        "HUB303",
        "file-missing",
        "requirements",
        E,
        "fix the path; the Hub runs pip from the executor folder",
    ),
    Code("HUB304", "requirements-unreadable", "requirements", E, "save the file as UTF-8 text"),
    Code("HUB305", "option-argument", "requirements", E, "give the option its value"),
    # build-env
    Code(
        "HUB401",
        "env-no-braces",
        "build-env",
        E,
        "write ${NAME}: the Hub substitutes only the braced form",
    ),
    Code(
        "HUB402",
        "env-bad-name",
        "build-env",
        E,
        "use upper-case letters, digits and `_`, not starting with `_`, e.g. ${TORCH_VERSION}",
    ),
    Code("HUB403", "env-unclosed", "build-env", E, "close the reference with `}`"),
    Code(
        "HUB404",
        "env-not-provided",
        "build-env",
        E,
        "give every ${NAME} requirements.txt uses: --build-env NAME=VALUE",
    ),
    Code(
        "HUB405",
        "env-provided-invalid",
        "build-env",
        E,
        "use upper-case letters, digits and `_`, not starting with `_`",
    ),
    Code(
        "HUB406",
        "env-unused",
        "build-env",
        W,
        "remove the --build-env or reference it as ${NAME} in requirements.txt",
    ),
    Code("HUB407", "env-needed", "build-env", INFO, None),
    Code("HUB408", "env-no-value", "build-env", E, "give a value: --build-env NAME=VALUE"),
    # dockerfile
    Code(
        "HUB501",
        "dockerfile-missing",
        "dockerfile",
        E,
        "give the path of an existing file, relative to the executor folder",
    ),
    Code(
        "HUB502",
        "dockerfile-outside",
        "dockerfile",
        E,
        "move the Dockerfile into the executor folder: only the folder is uploaded",
    ),
    Code(
        "HUB503",
        "dockerfile-no-from",
        "dockerfile",
        E,
        "start the Dockerfile with `FROM jinaai/jina:<version>-py<ver>-perf` (ARG may precede)",
    ),
    Code("HUB504", "dockerfile-syntax", "dockerfile", E, "fix the Dockerfile syntax"),
    Code("HUB505", "dockerfile-generated", "dockerfile", INFO, None),
    Code(
        "HUB506",
        "dockerfile-ignored",
        "dockerfile",
        E,
        "remove the pattern that excludes it from .gitignore/.dockerignore",
    ),
    Code("HUB507", "dockerfile-unreadable", "dockerfile", E, "save the file as UTF-8 text"),
    Code(
        "HUB508",
        "dockerfile-ignored-generated",
        "dockerfile",
        INFO,
        "to build this Dockerfile instead, remove the pattern that excludes it from "
        ".gitignore/.dockerignore",
    ),
    Code(
        "HUB509",
        "copy-outside-context",
        "dockerfile",
        E,
        "copy it into the executor folder (the build context) and COPY it from there",
    ),
    Code(
        "HUB510",
        "credential-in-image",
        "dockerfile",
        E,
        "pass it at build time as a build env (`ARG NAME` without a default, "
        "--build-env NAME=VALUE) and use it only in RUN; never write it into ENV, ARG or LABEL",
    ),
    # secrets in requirements.txt
    Code(
        "HUB701",
        "url-credentials",
        "secret",
        E,
        "remove the credentials; pass them at build time as ${NAME} with --build-env",
    ),
    Code(
        "HUB702",
        "token-in-requirements",
        "secret",
        E,
        "remove the token and revoke it; pass it at build time as ${NAME} with --build-env",
    ),
)

CODES: Final[dict[str, Code]] = {c.code: c for c in _TABLE}


def finding(
    code: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``code`` with its registered category, severity and default hint."""
    entry = CODES[code]
    return Finding(
        code=code,
        category=entry.category,
        severity=severity or entry.severity,
        message=message,
        file=file,
        line=line,
        col=col,
        hint=hint if hint is not None else entry.hint,
    )
