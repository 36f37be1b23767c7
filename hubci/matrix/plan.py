"""Build the job matrix: discovered executors, narrowed to those a change touched.

Paths in the matrix are relative to the git work tree's top level (what ``actions/checkout``
puts at ``$GITHUB_WORKSPACE``), so a later job can use ``matrix.path`` whatever ROOT the plan
job scanned; outside a git work tree they are relative to ROOT.

A change marks an executor when the changed path (either side of a rename) is inside the
executor's folder **and** would be in its bundle (the bundle's ignore rules decide: a changed
``__pycache__/x.pyc`` or a path the folder's ``.gitignore`` excludes does not count). A change
that matches an ``--always`` pattern marks every executor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import pathspec

from hubci.bundle.files import is_virtualenv
from hubci.bundle.ignore import IgnoreRules, load_rules
from hubci.errors import UsageError
from hubci.executor.discover import SKIP_DIRS, Discovery, Executor, discover, is_within
from hubci.matrix.changes import Change, ChangeSet, ChangesUnknown, changes_since, files_at

Mode = Literal["all", "changed", "fallback"]
NULL_SHA = re.compile(r"^0{7,40}$")


@dataclass(frozen=True)
class MatrixRequest:
    root: Path
    changed_since: str | None = None
    always: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatrixEntry:
    path: str
    name: str
    jtype: str
    platforms: str  # comma separated, "" for the Hub's default; ready for the Action's input

    def to_json(self) -> dict[str, str]:
        return {
            "path": self.path,
            "name": self.name,
            "jtype": self.jtype,
            "platforms": self.platforms,
        }


@dataclass
class MatrixResult:
    entries: list[MatrixEntry]
    total: int  # executors discovered under ROOT
    mode: Mode
    changes: ChangeSet | None = None
    #: executor path -> why it is in the matrix (changed mode only)
    reasons: dict[str, str] = field(default_factory=dict)
    #: executors that existed at the merge base and are gone (nothing to push)
    removed: list[str] = field(default_factory=list)
    #: one line each: fallbacks and folders that look like executors but are not
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {"include": [e.to_json() for e in self.entries]}


def compile_always(patterns: Sequence[str]) -> pathspec.GitIgnoreSpec | None:
    """``--always`` patterns (gitignore syntax, matched against work-tree-relative paths)."""
    cleaned = [p.strip() for p in patterns if p.strip()]
    if not cleaned:
        return None
    for pattern in cleaned:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except ValueError as exc:
            raise UsageError(
                f"--always {pattern!r} is not a valid pattern: {exc}",
                hint="use gitignore syntax, e.g. --always 'docker/*.Dockerfile'",
            ) from exc
    return pathspec.GitIgnoreSpec.from_lines(cleaned)


class _Bundles:
    """Answers "would this path be in that executor's bundle", loading each folder's rules once."""

    def __init__(self) -> None:
        self._rules: dict[Path, IgnoreRules] = {}

    def contains(self, executor: Executor, rel: str) -> bool:
        rules = self._rules.get(executor.folder)
        if rules is None:
            rules = self._rules[executor.folder] = load_rules(executor.folder)
        if not rules.selects(rel, is_dir=False):
            return False
        parts = rel.split("/")[:-1]
        return not any(
            is_virtualenv(str(executor.folder.joinpath(*parts[: i + 1]))) for i in range(len(parts))
        )


def _owner(path: str, by_top: dict[str, Executor]) -> tuple[Executor, str] | None:
    """The executor whose folder holds ``path`` (work-tree relative), and the path inside it."""
    if "." in by_top:
        return by_top["."], path
    parts = path.split("/")
    for i in range(len(parts) - 1, 0, -1):
        found = by_top.get("/".join(parts[:i]))
        if found is not None:
            return found, "/".join(parts[i:])
    return None


def _former_folders(path: str) -> Iterable[str]:
    """Folders ``path`` could have made an executor: its own, and the one above ``executor/``."""
    parent = PurePosixPath(path).parent
    yield "" if str(parent) == "." else parent.as_posix()
    if parent.name == "executor":
        grand = parent.parent
        yield "" if str(grand) == "." else grand.as_posix()


def _removed(
    discovery: Discovery, changes: ChangeSet, candidates: set[str], current: set[str]
) -> list[str]:
    """Which candidate folders were executors at the merge base (and are none now)."""
    if discovery.work_tree is None:
        return []
    prefix = discovery.rel_to_top(".")
    skip = len(PurePosixPath(prefix).parts) if prefix != "." else 0
    candidates = {  # folders discovery would never enter need not be copied out
        c for c in candidates if not SKIP_DIRS.intersection(PurePosixPath(c).parts[skip:])
    }
    if not candidates:
        return []
    with files_at(discovery.work_tree, changes.base, candidates) as tree:
        scan_root = tree if prefix == "." else tree / prefix
        if not scan_root.is_dir():
            return []
        before = discover(scan_root, use_git=False)
    gone = (discovery.rel_to_top(e.rel) for e in before.executors)
    return sorted(p for p in gone if p not in current)


def _select(
    discovery: Discovery, changes: ChangeSet, always: pathspec.GitIgnoreSpec | None
) -> tuple[set[str], dict[str, str], list[str]]:
    """(executor paths marked, reasons, removed executors) for a set of changes."""
    by_top = {discovery.rel_to_top(e.rel): e for e in discovery.executors}
    prefix = discovery.rel_to_top(".")
    bundles = _Bundles()
    reasons: dict[str, str] = {}
    candidates: set[str] = set()
    always_hit: str | None = None
    for change in changes.changes:
        for path in change.paths():
            if always_hit is None and always is not None and always.match_file(path):
                always_hit = path
            owner = _owner(path, by_top)
            if owner is not None:
                executor, inner = owner
                top = discovery.rel_to_top(executor.rel)
                if top not in reasons and bundles.contains(executor, inner):
                    reasons[top] = _describe(change, path)
            elif is_within(path, prefix):
                candidates.update(_former_folders(path))
    removed = _removed(discovery, changes, candidates, set(by_top))
    if always_hit is not None:
        reasons = dict.fromkeys(by_top, f"{always_hit} matches --always")
    return set(reasons), reasons, removed


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(path: str) -> str:
    """A path as one line of printable text: undecodable bytes of a file name and control
    characters become escapes, so a file named ``"a\\n::error::x"`` can neither break a line
    nor start a GitHub Actions workflow command."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _describe(change: Change, path: str) -> str:
    verb = {"A": "added", "D": "deleted", "R": "renamed", "C": "copied", "T": "type changed"}
    if change.status == "R" and change.old is not None:
        return f"renamed {printable(change.old)} -> {printable(change.path)}"
    return f"{verb.get(change.status, 'changed')} {printable(path)}"


def build_matrix(request: MatrixRequest) -> MatrixResult:
    """Discover, detect changes (falling back to every executor when that is impossible)."""
    if not request.root.is_dir():
        raise UsageError(f"{request.root} is not a folder", hint="pass the folder to search")
    always = compile_always(request.always)
    discovery = discover(request.root)
    platforms = ",".join(request.platforms)
    all_entries = [
        MatrixEntry(discovery.rel_to_top(e.rel), e.name or e.jtype, e.jtype, platforms)
        for e in discovery.executors
    ]
    result = MatrixResult(entries=all_entries, total=len(all_entries), mode="all")
    result.warnings.extend(f"not an executor: {line}" for line in discovery.skipped)
    ref = (request.changed_since or "").strip()
    if not ref:
        return result
    try:
        if discovery.work_tree is None:
            raise ChangesUnknown(f"{discovery.root} is not in a git work tree")
        if NULL_SHA.match(ref):
            raise ChangesUnknown(
                f"{ref!r} is the null commit (GitHub sends it as `before` for a new branch or tag)"
            )
        changes = changes_since(discovery.work_tree, ref)
    except ChangesUnknown as exc:
        result.mode = "fallback"
        result.warnings.append(
            f"cannot tell what changed since {ref}: {exc.reason}; using all executors"
        )
        return result
    marked, reasons, removed = _select(discovery, changes, always)
    result.mode = "changed"
    result.changes = changes
    result.entries = [e for e in all_entries if e.path in marked]
    result.reasons = {e.path: reasons[e.path] for e in result.entries}
    result.removed = removed
    return result
