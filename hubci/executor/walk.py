"""List the files under a folder that is not in a git work tree, honouring ``.gitignore`` files.

Nested ``.gitignore`` files apply as git applies them: patterns are relative to the folder that
holds the file, a deeper file overrides a shallower one, the last matching line of a file wins
(``!`` re-includes), and nothing below an ignored folder can be re-included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pathspec

#: A directory the walk must not enter: (relative POSIX path, names of its entries) -> prune?
PruneRule = Callable[[str, Iterable[str]], bool]


def _read_spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = text.splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    """Whether ``rel`` is ignored: the deepest ``.gitignore`` with a matching line decides."""
    for base, spec in reversed(specs):
        sub = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(sub + "/" if is_dir else sub)
        if result.include is not None:
            return result.include
    return False


def walk_files(root: Path, prune: PruneRule) -> list[str]:
    """Files under ``root`` (POSIX, relative, sorted) not ignored by any ``.gitignore``.

    Symbolic links to directories are not followed (a link is listed as a file, as git does).
    """
    found: list[str] = []
    # (relative folder, specs in force there: (base folder, spec) from the root down)
    stack: list[tuple[str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [("", [])]
    while stack:
        rel_dir, inherited = stack.pop()
        folder = root / rel_dir if rel_dir else root
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        names = [e.name for e in entries]
        if rel_dir and prune(rel_dir, names):
            continue
        specs = inherited
        if ".gitignore" in names:
            spec = _read_spec(folder / ".gitignore")
            if spec is not None:
                specs = [*inherited, (rel_dir, spec)]
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if _ignored(rel, is_dir, specs):
                continue
            if is_dir:
                stack.append((rel, specs))
            else:
                found.append(rel)
    found.sort()
    return found
