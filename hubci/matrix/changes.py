"""Which files changed since a ref, as git sees them.

``--changed-since REF`` compares the **merge base** of REF and HEAD with the **work tree**:

* merge base (``REF...HEAD``), not REF itself (``REF..HEAD``): for a pull request base this is
  the fork point, so commits that landed on the base branch after the branch was cut do not
  count as changes of the pull request. For the previous release tag, which is an ancestor of
  HEAD, the merge base *is* the tag, so both forms agree.
* work tree, not HEAD: ``hubci push`` bundles the files on disk, so an uncommitted edit changes
  what would be pushed. In CI the checkout is clean and this is exactly ``REF...HEAD``; on a
  laptop staged, unstaged and untracked (not ignored) files count too.

When the answer cannot be known (git missing, not a work tree, unknown REF, no HEAD, no common
history, typically in a shallow clone) :class:`ChangesUnknown` says why; the caller falls back
to every executor.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hubci.gitrepo import GitFailed, WorkTree, run_git, split_z

SHALLOW_HINT = "the clone is shallow; fetch the history (actions/checkout with fetch-depth: 0)"


class ChangesUnknown(Exception):
    """The changes since REF cannot be computed; ``reason`` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Change:
    """One changed path, relative to the work tree's top level (POSIX)."""

    status: str  # A added, M modified, D deleted, R renamed, C copied, T type changed, U unmerged
    path: str  # the path now (for D: the path that was deleted)
    old: str | None = None  # the path before, for R and C

    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old is None else (self.old, self.path)

    def gone(self) -> tuple[str, ...]:
        """Paths that no longer exist after this change."""
        if self.status == "D":
            return (self.path,)
        if self.status == "R" and self.old is not None:
            return (self.old,)
        return ()


@dataclass(frozen=True)
class ChangeSet:
    ref: str
    ref_sha: str
    base: str  # the merge base the work tree was compared with
    changes: tuple[Change, ...]


def _verify(tree: WorkTree, rev: str) -> str | None:
    try:
        out = run_git(tree.top, "rev-parse", "--verify", "--quiet", "--end-of-options", rev)
    except GitFailed:
        return None
    return out.decode().strip() or None


def parse_name_status(out: bytes) -> list[Change]:
    """Parse ``git diff --name-status -z`` output."""
    fields = split_z(out)
    changes: list[Change] = []
    i = 0
    while i < len(fields):
        status = fields[i][:1]
        if status in ("R", "C"):
            changes.append(Change(status, fields[i + 2], old=fields[i + 1]))
            i += 3
        else:
            changes.append(Change(status, fields[i + 1]))
            i += 2
    return changes


def changes_since(tree: WorkTree, ref: str) -> ChangeSet:
    """Changes between the merge base of ``ref`` and HEAD, and the work tree (see module doc)."""
    shallow = f"; {SHALLOW_HINT}" if tree.shallow else ""
    ref_sha = _verify(tree, f"{ref}^{{commit}}")
    if ref_sha is None:
        raise ChangesUnknown(f"{ref!r} is not a commit in this repository{shallow}")
    if _verify(tree, "HEAD^{commit}") is None:
        raise ChangesUnknown("the repository has no commit checked out (HEAD)")
    try:
        base = run_git(tree.top, "merge-base", ref_sha, "HEAD").decode().strip()
    except GitFailed as exc:
        detail = f" ({exc.stderr})" if exc.stderr else ""  # git says nothing for unrelated history
        raise ChangesUnknown(f"{ref!r} and HEAD have no common history{detail}{shallow}") from exc
    diff = run_git(
        tree.top,
        "diff",
        "--name-status",
        "-z",
        "-M",
        "--no-ext-diff",
        "--ignore-submodules=dirty",
        base,
        "--",
    )
    changes = parse_name_status(diff)
    untracked = run_git(tree.top, "ls-files", "-z", "--others", "--exclude-standard")
    changes.extend(Change("A", p) for p in split_z(untracked) if not p.endswith("/"))
    return ChangeSet(ref=ref, ref_sha=ref_sha, base=base, changes=tuple(changes))


def _wanted(path: str, folders: set[str]) -> bool:
    """Files discovery reads: config.yml, manifest.yml and *.py at a folder and in executor/."""
    p = PurePosixPath(path)
    if p.suffix != ".py" and p.name not in ("config.yml", "manifest.yml"):
        return False
    parent = p.parent.as_posix()
    parent = "" if parent == "." else parent
    if parent in folders:
        return True
    return (
        p.parent.name == "executor"
        and p.suffix == ".py"
        and ((p.parent.parent.as_posix() if p.parent.parent.as_posix() != "." else "") in folders)
    )


def _blobs_at(tree: WorkTree, commit: str, specs: list[str]) -> list[tuple[str, str]]:
    """(path, blob id) of every file under ``specs`` at ``commit`` (``git ls-tree -r -z``)."""
    listing = run_git(tree.top, "ls-tree", "-r", "-z", commit, "--", *specs)
    entries: list[tuple[str, str]] = []
    for entry in split_z(listing):
        meta, _, path = entry.partition("\t")  # "<mode> <type> <id>\t<path>"
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            entries.append((path, parts[2]))
    return entries


def _cat_files(tree: WorkTree, blobs: list[tuple[str, str]]) -> Iterator[tuple[str, bytes]]:
    """The contents of ``blobs`` ((path, blob id) pairs), via one ``git cat-file --batch``.

    Asked for by id, not by ``commit:path``: the batch protocol is line based, and a path may
    hold a newline.
    """
    request = "".join(f"{oid}\n" for _, oid in blobs).encode("ascii")
    out = run_git(tree.top, "cat-file", "--batch", stdin=request)
    pos = 0
    for path, _ in blobs:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split()
        pos = eol + 1
        if len(header) != 3:  # "<id> missing"
            continue
        size = int(header[2])
        data = out[pos : pos + size]
        pos += size + 1
        if header[1] == b"blob":
            yield path, data


@contextmanager
def files_at(tree: WorkTree, commit: str, folders: Iterable[str]) -> Iterator[Path]:
    """A temporary folder holding, at ``commit``, the files of ``folders`` discovery reads.

    The layout mirrors the work tree (paths relative to its top), so running discovery on it
    answers "which of these folders were executors at that commit".
    """
    wanted = set(folders)
    with tempfile.TemporaryDirectory(prefix="hubci-matrix-") as tmp:
        dest = Path(tmp)
        if wanted:
            specs = sorted({f or "." for f in wanted})
            blobs = [(p, oid) for p, oid in _blobs_at(tree, commit, specs) if _wanted(p, wanted)]
            for rel, data in _cat_files(tree, blobs):
                target = dest.joinpath(*PurePosixPath(rel).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        yield dest
