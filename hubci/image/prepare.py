"""From an executor folder to what the Hub would build: validate, select, copy, normalize.

``hubci build`` must build exactly what the Hub builds after a push: the bundle's files (the same
selection as the zip, :func:`hubci.bundle.collect_files`) in a fresh folder, normalized like the
Hub's normalizer (the executor's own Dockerfile, or the generated one).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hubci.buildenv import parse_build_env
from hubci.errors import BuildFailed, UsageError
from hubci.secret import Secret

__all__ = [
    "Prepared",
    "copy_bundle",
    "dockerfile_relpath",
    "parse_build_env",
    "prepared_bundle",
    "repo_name",
    "validate",
]


@dataclass(frozen=True)
class Prepared:
    """A normalized copy of the bundle, ready for the builder."""

    folder: Path
    dockerfile: str  # relative to ``folder``
    dockerfile_generated: bool
    executor: str
    name: str
    warnings: list[str] = field(default_factory=list)


def dockerfile_relpath(folder: Path, value: str | None) -> str | None:
    """``--dockerfile``: a path inside the executor folder (relative to it, or to the cwd)."""
    if value is None:
        return None
    given = Path(value)
    candidates = [given] if given.is_absolute() else [folder / given, Path.cwd() / given]
    root = folder.resolve()
    for candidate in candidates:
        if candidate.is_file():
            try:
                return candidate.resolve().relative_to(root).as_posix()
            except ValueError:
                msg = f"--dockerfile {value}: the file is outside the executor folder {folder}"
                raise UsageError(msg, "the Hub only sees files inside the bundle") from None
    msg = f"--dockerfile {value}: no such file in {folder}"
    raise UsageError(msg, "give a path relative to the executor folder")


def repo_name(name: str) -> str:
    """An executor name as a Docker repository component (lower-case, ``[a-z0-9._-]``)."""
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("._-")
    return re.sub(r"[._-]{2,}", "-", cleaned) or "executor"


def validate(
    folder: Path,
    *,
    dockerfile: str | None,
    build_env: Mapping[str, Secret],
    line: Callable[[str], None],
) -> None:
    """Run the checks push runs (every build env required); ValidationError (exit 2) on errors."""
    from hubci.validate.gate import report_before_sending, stop_on_errors

    report = report_before_sending(folder, dockerfile=dockerfile, build_env=build_env)
    stop_on_errors(report, folder, line, action="built")


def copy_bundle(folder: Path, dest: Path) -> int:
    """Copy the files the bundle would hold into ``dest`` (as the Hub unpacks them); count them."""
    from hubci.bundle.files import collect_files

    fileset = collect_files(folder)
    for entry in fileset.entries:
        target = dest.joinpath(*PurePosixPath(entry.relpath).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.path, target)
        target.chmod(entry.mode & 0o777)
        os.utime(target, (entry.mtime, entry.mtime))
    return len(fileset.entries)


@contextmanager
def prepared_bundle(
    folder: Path,
    *,
    dockerfile: str | None,
    build_env: Sequence[str] = (),
    name: str | None = None,
) -> Iterator[Prepared]:
    """A temporary, normalized copy of ``folder``'s bundle; removed on exit.

    Raises :class:`BuildFailed` (exit 1) when the Hub's normalizer would reject the bundle.
    """
    from hubci.executor.config import resolve_name
    from hubci.normalize import NormalizeError, normalize

    work = Path(tempfile.mkdtemp(prefix="hubci-build-"))
    try:
        bundle = work / "bundle"
        bundle.mkdir()
        copy_bundle(folder, bundle)
        try:
            result = normalize(bundle, dockerfile=dockerfile, build_env=list(build_env))
        except NormalizeError as exc:
            msg = f"the Hub's normalizer would reject {folder} (code {exc.code}): {exc.message}"
            raise BuildFailed(msg, "fix the executor, then build again") from None
        resolved, _source = resolve_name(folder, name)
        yield Prepared(
            folder=bundle,
            dockerfile=result.dockerfile,
            dockerfile_generated=result.dockerfile_generated,
            executor=result.executor,
            name=resolved or result.executor,
            warnings=list(result.warnings),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
