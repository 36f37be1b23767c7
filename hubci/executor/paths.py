"""Expand the folders given to a multi-executor push: plain paths and glob patterns.

``hubci push PATH...`` and the Action's ``path`` input (newline or comma separated) accept both:

* a plain path names one folder; it must exist and be a directory. It is kept even when it does
  not look like an executor, so that validation reports what is wrong with it;
* a pattern (``*``, ``?``, ``[...]``; ``**`` crosses folders) names every executor folder it
  matches: matched files, non-executor folders, and folders below another match are dropped
  (an executor's subfolders are part of its bundle). Hidden folders, virtual environments,
  ``node_modules`` and ``tests/`` are never matched. A pattern that matches no executor is an
  error, as a shell would have passed it on unexpanded.

The result has each folder once, in the order given (the matches of one pattern sorted).
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from pathlib import Path

from hubci.errors import UsageError
from hubci.executor.discover import SKIP_DIRS, Executor, examine_folder

_MAGIC = frozenset("*?[")


def split_items(values: Iterable[str]) -> list[str]:
    """Items of repeated options or of an Action input: split on newlines and commas."""
    out: list[str] = []
    for value in values:
        for line in value.replace(",", "\n").splitlines():
            item = line.strip()
            if item:
                out.append(item)
    return out


def _skipped(rel: Path) -> bool:
    return any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]) or (
        rel.name in SKIP_DIRS
    )


def _matches(pattern: str, cwd: Path) -> list[Path]:
    # glob.glob, not Path.glob: shell semantics, absolute patterns, and root_dir for relative ones
    hits = glob.glob(pattern, root_dir=cwd, recursive=True)  # noqa: PTH207
    folders: list[Path] = []
    for hit in sorted(hits, key=lambda h: Path(h).parts):
        rel = Path(hit)
        path = rel if rel.is_absolute() else cwd / rel
        if not path.is_dir() or (not rel.is_absolute() and _skipped(rel)):
            continue
        if (path / "pyvenv.cfg").is_file():
            continue
        if isinstance(examine_folder(path), Executor):
            folders.append(path)
    kept: list[Path] = []
    for folder in folders:  # sorted by parts: a folder comes before its subfolders
        if not any(folder.is_relative_to(k) for k in kept):
            kept.append(folder)
    return kept


def expand_paths(items: Sequence[str], cwd: Path) -> list[Path]:
    """The executor folders named by ``items`` (see the module doc), resolved, each once."""
    if not items:
        raise UsageError("no executor folder given", hint="pass one or more folders or patterns")
    found: list[Path] = []
    seen: set[Path] = set()
    for item in items:
        if _MAGIC & set(item):
            matched = _matches(item, cwd)
            if not matched:
                raise UsageError(
                    f"{item!r} matches no executor folder",
                    hint="an executor folder has a config.yml with a jtype, or one Executor class",
                )
        else:
            path = Path(item) if Path(item).is_absolute() else cwd / item
            if not path.is_dir():
                what = "is not a folder" if path.exists() else "does not exist"
                raise UsageError(f"{item} {what}", hint="give the path of an executor folder")
            matched = [path]
        for folder in matched:
            resolved = folder.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found
