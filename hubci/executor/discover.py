"""Find every Executor folder under a root, the way ``hubci validate`` and the Hub decide.

A folder is an executor when it has a ``config.yml`` with a string ``jtype``, or when it has no
``config.yml`` and the Hub's discovery rule (``*.py`` at its root and in ``executor/``, a class
whose base is written ``Executor`` or ``x.Executor``) finds exactly one class.

Which files exist is asked of git when the root is in a work tree (tracked plus untracked files
that no ignore rule excludes: exactly what git shows), else read from a walk that applies nested
``.gitignore`` files. Never considered: anything under ``.git``, virtual environments (a folder
holding ``pyvenv.cfg`` or named like one), ``node_modules``, and ``tests/`` folders (test
fixtures often look like executors). Executors do not nest: the files below an executor folder
are part of its bundle, so the search does not look for more executors there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hubci.executor.classes import discover_executor_classes
from hubci.executor.config import CONFIG_FILE, load_config, resolve_name
from hubci.executor.walk import walk_files
from hubci.gitrepo import WorkTree, list_files, work_tree_of

#: Folders never entered: VCS data, virtual environments, package caches, test fixtures.
SKIP_DIRS: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "site-packages",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".jina",
        "tests",
    }
)
VENV_MARKER = "pyvenv.cfg"


@dataclass(frozen=True)
class Executor:
    """One executor folder found under the root."""

    rel: str  # POSIX path relative to the discovery root ("." for the root itself)
    folder: Path  # absolute
    name: str | None
    jtype: str
    has_config: bool  # False: the Hub would generate config.yml for it


@dataclass
class Discovery:
    root: Path  # resolved
    work_tree: WorkTree | None
    executors: list[Executor] = field(default_factory=list)
    #: folders that look like executors but are not: one line each, for stderr
    skipped: list[str] = field(default_factory=list)

    def rel_to_top(self, rel: str) -> str:
        """``rel`` (relative to the root) as a path relative to the work tree's top level."""
        if self.work_tree is None:
            return rel
        prefix = self.root.relative_to(self.work_tree.top).as_posix()
        if prefix == ".":
            return rel
        return prefix if rel == "." else f"{prefix}/{rel}"


def _pruned(rel_dir: str, names: Iterable[str]) -> bool:
    return PurePosixPath(rel_dir).name in SKIP_DIRS or VENV_MARKER in names


def _ancestors(folder: str) -> Iterable[str]:
    """The folders above ``folder`` (relative, "" is the root), innermost first."""
    while folder:
        folder = folder.rpartition("/")[0]
        yield folder


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name git or the walk decoded with surrogateescape
        return False
    return True


def _index(files: Iterable[str]) -> dict[str, set[str]]:
    """Folder (relative, "" for the root) -> names of the files directly in it, minus pruned."""
    by_dir: dict[str, set[str]] = {}
    for rel in files:
        if not _utf8(rel):
            continue  # cannot be stored in a bundle (validate reports it in its folder)
        head, _, name = rel.rpartition("/")
        by_dir.setdefault(head, set()).add(name)
    venvs = {d for d, names in by_dir.items() if VENV_MARKER in names}
    kept: dict[str, set[str]] = {}
    for d, names in by_dir.items():
        parts = d.split("/") if d else []
        if any(p in SKIP_DIRS for p in parts):
            continue
        if venvs and any(p in venvs for p in (d, *_ancestors(d))):
            continue
        kept[d] = names
    return kept


def _candidates(by_dir: dict[str, set[str]]) -> list[str]:
    """Folders that could be executors: a config.yml, *.py at the root or in executor/."""
    found: set[str] = set()
    for d, names in by_dir.items():
        if CONFIG_FILE in names or any(n.endswith(".py") for n in names):
            found.add(d)
        if PurePosixPath(d).name == "executor" and any(n.endswith(".py") for n in names):
            found.add(d.rpartition("/")[0])
    return sorted(found, key=lambda d: (d.count("/") + (1 if d else 0), d))


def _mentions_executor(folder: Path, names: Iterable[str]) -> bool:
    """Cheap pre-check before parsing: no file can define an Executor subclass without the word."""
    for name in names:
        try:
            if b"Executor" in (folder / name).read_bytes():
                return True
        except OSError:
            continue
    return False


def _examine(root: Path, rel: str, by_dir: dict[str, set[str]]) -> Executor | str | None:
    """An Executor, a one-line reason it is skipped, or None when it is plainly not one."""
    folder = root / rel if rel else root
    shown = rel or "."
    names = by_dir.get(rel, set())
    if CONFIG_FILE in names and (folder / CONFIG_FILE).is_file():
        info = load_config(folder)
        if info.jtype:
            name = resolve_name(folder, info=info)[0] or info.jtype
            return Executor(shown, folder, name, info.jtype, has_config=True)
        looks_like = info.metas is not None or bool(info.py_modules) or "jtype" in info.keys
        if looks_like or not info.parsed:
            return f"{shown}: {CONFIG_FILE} has no string `jtype`, so it is not an executor"
        return None
    sub = f"{rel}/executor" if rel else "executor"
    py_files = [n for n in names if n.endswith(".py")]
    py_files += [f"executor/{n}" for n in by_dir.get(sub, set()) if n.endswith(".py")]
    if not _mentions_executor(folder, py_files):
        return None
    classes = [c for c in discover_executor_classes(folder) if c.derives_executor]
    if len(classes) == 1:
        jtype = classes[0].name
        name = resolve_name(folder, class_name=jtype)[0] or jtype
        return Executor(shown, folder, name, jtype, has_config=False)
    if len(classes) > 1:
        listed = ", ".join(sorted(c.name for c in classes))
        return (
            f"{shown}: {len(classes)} Executor classes ({listed}) and no {CONFIG_FILE}; "
            f"the Hub accepts exactly one (add a {CONFIG_FILE} with its jtype)"
        )
    return None


def examine_folder(folder: Path) -> Executor | str | None:
    """Whether one folder is an executor: an Executor (``rel`` "."), a reason it is not, or None.

    Looks only at the files discovery reads (``config.yml`` and ``*.py`` at the folder and in
    ``executor/``); ignore rules are not consulted, as when a folder is named explicitly.
    """
    by_dir: dict[str, set[str]] = {}
    for rel, sub in (("", folder), ("executor", folder / "executor")):
        try:
            by_dir[rel] = {e.name for e in os.scandir(sub) if e.is_file()}
        except OSError:
            continue
    return _examine(folder, "", by_dir)


def list_candidate_files(root: Path, work_tree: WorkTree | None) -> list[str]:
    """The files under ``root`` that count (relative POSIX paths, sorted)."""
    if work_tree is not None:
        return list_files(root)
    return walk_files(root, _pruned)


def discover(root: Path, *, use_git: bool = True) -> Discovery:
    """Every executor folder under ``root``, sorted by path (a folder's parent before it).

    ``use_git=False`` always walks the folder (for a scratch copy that must not be read
    through whatever repository its temporary folder happens to sit in).
    """
    root = root.resolve()
    work_tree = work_tree_of(root) if use_git else None
    result = Discovery(root=root, work_tree=work_tree)
    by_dir = _index(list_candidate_files(root, work_tree))
    accepted: set[str] = set()
    for rel in _candidates(by_dir):
        if any(p in accepted for p in _ancestors(rel)):
            continue  # inside an executor: part of its bundle
        outcome = _examine(root, rel, by_dir)
        if isinstance(outcome, Executor):
            accepted.add(rel)
            result.executors.append(outcome)
        elif outcome is not None:
            result.skipped.append(outcome)
    result.executors.sort(key=lambda e: _sort_key(e.rel))
    return result


def _sort_key(rel: str) -> tuple[str, ...]:
    """Sort by path components, so ``a/b`` comes before ``a-c`` (plain string order would not)."""
    return tuple(rel.split("/")) if rel != "." else ()


def is_within(path: str, folder: str) -> bool:
    """Whether the POSIX path ``path`` is ``folder`` or below it ("." is everything)."""
    return folder == "." or path == folder or path.startswith(folder + "/")
