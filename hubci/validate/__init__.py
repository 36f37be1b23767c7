"""``hubci validate``: everything the Hub would reject, found offline, as data.

:func:`validate_folder` runs every check on one executor folder and returns an
:class:`ExecutorReport`; :func:`executor_folders` maps paths (pre-commit passes file names) to
the executor folders holding them. Nothing here imports user code, Docker, GitHub or HTTP
libraries.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hubci import rules
from hubci.errors import ConfigError
from hubci.executor.classes import discover_executor_classes
from hubci.executor.config import CONFIG_FILE
from hubci.findings import ExecutorReport, Finding, Severity
from hubci.validate.buildenv import check_build_env
from hubci.validate.config_checks import check_config_and_python
from hubci.validate.dockerfile_checks import check_dockerfile
from hubci.validate.requirements import check_requirements

if TYPE_CHECKING:
    from hubci.bundle import FileSet

__all__ = [
    "ExecutorReport",
    "Finding",
    "Severity",
    "executor_folders",
    "executors_below",
    "folders_to_validate",
    "validate_folder",
]

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _sort_key(f: Finding) -> tuple[int, str, int, int, str]:
    return (_SEVERITY_ORDER[f.severity], f.file or "", f.line or 0, f.col or 0, f.code)


def validate_folder(
    folder: Path,
    *,
    dockerfile: str | None = None,
    build_env: Mapping[str, str | None] | None = None,
    require_build_env_values: bool = False,
    name: str | None = None,
    max_bytes: int = rules.DEFAULT_MAX_BUNDLE_BYTES,
    max_files: int = rules.DEFAULT_MAX_BUNDLE_FILES,
    fileset: FileSet | None = None,
) -> ExecutorReport:
    """Run every check on one executor folder; findings are sorted errors first.

    ``fileset`` is the folder's :func:`hubci.bundle.collect_files` when the caller has it
    already (a push bundles the same selection), so the folder is walked once.

    ``build_env`` is None when no ``--build-env`` was given; a None value means a name given
    without a value (an error only with ``require_build_env_values``, as at push time).
    Raises :class:`ConfigError` when ``folder`` is not a folder.
    """
    if not folder.is_dir():
        msg = f"{folder} is not a folder"
        raise ConfigError(msg, hint="pass an executor folder or a file inside one")
    from hubci.bundle import bundle_findings, collect_files

    if fileset is None:
        fileset = collect_files(folder)
    bundled = {entry.relpath for entry in fileset.entries}
    findings: list[Finding] = []
    config = check_config_and_python(folder, name=name, bundled=bundled)
    findings += config.findings
    requirements = check_requirements(folder)
    findings += requirements.findings
    findings += check_build_env(
        requirements.refs, build_env, require_values=require_build_env_values
    )
    findings += check_dockerfile(folder, dockerfile, bundled)
    findings += bundle_findings(folder, max_bytes=max_bytes, max_files=max_files, fileset=fileset)
    findings = _hub_files(folder, dockerfile, findings)
    findings.sort(key=_sort_key)
    return ExecutorReport(path=str(folder), name=config.name, jtype=config.jtype, findings=findings)


#: Files the Hub reads by name (the Dockerfile too, under the name a push gives).
HUB_FILES = (CONFIG_FILE, "manifest.yml", "requirements.txt")


def _kind(mode: int) -> str | None:
    """What a path that is no regular file is, in words; None for a regular file or a link
    (links are the bundle rules' business)."""
    import stat

    for test, word in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return word
    return None


def _hub_files(folder: Path, dockerfile: str | None, found: list[Finding]) -> list[Finding]:
    """An error for each file the Hub reads that is a folder, a pipe, a socket or a device
    (HUB120), in place of what the other checks made of it: "no config.yml, the Hub generates
    one" (HUB102), or "not a regular file, left out" (HUB606), would let a push go on without it.
    """
    from hubci.findings.codes import finding

    special: dict[str, str] = {}
    for name in (*HUB_FILES, dockerfile or "Dockerfile"):
        try:
            kind = _kind(os.lstat(folder / name).st_mode)
        except OSError:
            continue
        if kind is not None:
            special[name] = kind
    if not special:
        return found
    kept = [
        f
        for f in found
        if not (f.code == "HUB606" and f.file in special)
        and not (f.code == "HUB102" and CONFIG_FILE in special)
    ]
    for name, kind in special.items():
        kept.append(finding("HUB120", f"{name} is {kind}, not a file", file=name))
    return kept


def _absolute(path: Path) -> Path:
    """Absolute and normalised, without resolving links (so displayed paths stay familiar)."""
    return Path(os.path.normpath(path.absolute()))


def _display(absolute: Path, relative_input: bool) -> Path:
    if relative_input:
        rel = os.path.relpath(absolute)
        if not rel.startswith(".."):
            return Path(rel)
    return absolute


def executor_folder_of(path: Path) -> tuple[Path, bool]:
    """(executor folder of ``path``, whether it holds config.yml).

    A folder is its own executor folder. A file belongs to its nearest ancestor holding
    config.yml, not looking above a git repository root; else to the folder it is in.
    """
    absolute = _absolute(path)
    relative_input = not path.is_absolute()
    if absolute.is_dir():
        return _display(absolute, relative_input), (absolute / CONFIG_FILE).is_file()
    start = absolute.parent
    for current in (start, *start.parents):
        if (current / CONFIG_FILE).is_file():
            return _display(current, relative_input), True
        if (current / ".git").exists():
            break
    return _display(start, relative_input), False


def executors_below(folder: Path) -> list[Path]:
    """The executor folders below ``folder`` (a monorepo root that is no executor itself).

    Found as ``hubci matrix`` finds them (git's file list or an ignore-aware walk; virtualenvs
    and ``tests/`` left out), and named like ``folder`` so displayed paths stay familiar.
    """
    from hubci.executor.discover import discover  # only for a folder that is no executor

    return [folder / e.rel for e in discover(folder).executors if e.rel not in ("", ".")]


def executor_folders(paths: Iterable[Path]) -> list[Path]:
    """Each path's executor folder (see :func:`executor_folder_of`), each once, in order."""
    out: dict[Path, Path] = {}
    for path in paths:
        folder, _ = executor_folder_of(path)
        out.setdefault(_absolute(folder), folder)
    return list(out.values())


def folders_to_validate(paths: Iterable[Path], *, recursive: bool = False) -> list[Path]:
    """The executor folders ``hubci validate PATH...`` checks, each once, in the order named.

    A file belongs to its executor folder (:func:`executor_folder_of`) and is skipped when that
    is no executor (a repository's own ``requirements-dev.txt``): the pre-commit hook passes
    every staged file. A folder named explicitly means that folder, as for ``hubci push``: one
    that is no executor gets HUB100, whose hint names the executors below it. With
    ``recursive`` (``-r``), such a folder (a monorepo root) stands for the executors below it.
    """
    paths = list(paths)
    explicit = {os.path.normpath(p.absolute()) for p in paths if p.is_dir()}
    chosen: dict[str, Path] = {}
    for folder in executor_folders(paths):
        if (folder / CONFIG_FILE).is_file() or discover_executor_classes(folder):
            found = [folder]
        elif os.path.normpath(folder.absolute()) in explicit:
            found = (executors_below(folder) if recursive else []) or [folder]
        else:
            found = []
        for each in found:
            chosen.setdefault(os.path.normpath(each.absolute()), each)
    return list(chosen.values())
