"""File selection: walk an executor folder and decide what goes into the bundle.

The walk applies :mod:`hubci.bundle.ignore`, never enters virtualenvs, and resolves symbolic
links itself: a link to a file inside the folder is bundled as that file's content, a link to a
directory inside is walked under the link's name, and every other link (outside the folder,
dangling, a loop, or pointing at an ignored path) becomes a bundle-safety error instead of an
entry. Nothing here raises for a bad file; problems are findings.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from hubci.bundle import codes
from hubci.bundle.ignore import IgnoreRules, load_rules
from hubci.errors import ConfigError
from hubci.findings import Finding, Severity

_LINK_HINT = "replace the link with the file itself, or " + codes.IGNORE_HINT


@dataclass(frozen=True)
class BundleEntry:
    """One file of the bundle."""

    relpath: str  # POSIX, relative to the folder; the zip entry name
    path: Path  # the file to read (for a link: its resolved target)
    size: int
    mode: int  # st_mode of the file (of the target for a link)
    mtime: float
    #: (st_mtime_ns, st_ctime_ns, st_ino, st_dev): what changes whenever the content may have
    #: (hubci.bundle.known); zeros when unknown
    stamp: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class FileSet:
    """What :func:`collect_files` selected, plus the problems it met."""

    root: Path
    entries: list[BundleEntry]
    problems: list[Finding]
    #: which rules chose the files: ".gitignore" or "built-in default"
    ignore_source: str = ".gitignore"
    #: the virtualenvs that were skipped (relative paths)
    skipped_virtualenvs: list[str] = field(default_factory=list)

    @property
    def content_bytes(self) -> int:
        return sum(entry.size for entry in self.entries)


def collect_files(folder: Path) -> FileSet:
    """Select the files of ``folder`` that go into the bundle, sorted by relative path."""
    try:
        is_dir = folder.is_dir()
    except OSError as exc:
        msg = f"cannot read {folder}: {exc.strerror or exc}"
        raise ConfigError(msg, hint="check the folder's permissions") from exc
    if not is_dir:
        msg = f"{folder} is not a folder"
        raise ConfigError(msg, hint="pass the executor folder (the one holding config.yml)")
    root = os.path.realpath(folder)
    walker = _Walker(root, load_rules(Path(root)))
    walker.walk()
    walker.entries.sort(key=lambda entry: entry.relpath)
    walker.problems.sort(key=lambda f: (f.file or "", f.line or 0, f.code))
    return FileSet(
        root=Path(root),
        entries=walker.entries,
        problems=walker.problems,
        ignore_source=walker.rules.source,
        skipped_virtualenvs=sorted(walker.virtualenvs),
    )


def is_virtualenv(path: str) -> bool:
    """A venv/virtualenv (``pyvenv.cfg``) or a conda environment (``conda-meta/``)."""
    folder = Path(path)
    try:
        return (folder / "pyvenv.cfg").is_file() or (folder / "conda-meta").is_dir()
    except OSError:  # an unreadable folder: the walk reports it when it tries to list it
        return False


class _Walker:
    def __init__(self, root: str, rules: IgnoreRules) -> None:
        self.root = root
        self.rules = rules
        self.entries: list[BundleEntry] = []
        self.problems: list[Finding] = list(rules.problems)
        self._rule_problems = len(rules.problems)
        self.virtualenvs: list[str] = []

    def walk(self) -> None:
        # (relative dir, real dir, real dirs from the root down to it)
        stack: list[tuple[str, str, frozenset[str]]] = [("", self.root, frozenset({self.root}))]
        while stack:
            rel_dir, real_dir, ancestors = stack.pop()
            try:
                with os.scandir(real_dir) as it:
                    items = sorted(it, key=lambda de: de.name)
            except OSError as exc:
                self._unreadable(rel_dir or ".", exc)
                continue
            for item in items:
                rel = f"{rel_dir}/{item.name}" if rel_dir else item.name
                try:
                    child = self._entry(rel, item, ancestors)
                except OSError as exc:  # the entry vanished or changed while being looked at
                    self._unreadable(rel, exc)
                    continue
                if child is not None:
                    stack.append((rel, child, ancestors | {child}))

    def _entry(self, rel: str, item: os.DirEntry[str], ancestors: frozenset[str]) -> str | None:
        """Handle one directory entry; return the real path of a directory to enter."""
        if item.is_symlink():
            return self._link(rel, item.path, ancestors)
        if item.is_dir(follow_symlinks=False):
            return self._dir(rel, item.path)
        self._file(rel, item.path, item.stat(follow_symlinks=False))
        return None

    def _name_ok(self, rel: str) -> bool:
        """Whether a zip can carry the name safely (checked once the path is known to count)."""
        name = rel.rsplit("/", 1)[-1]
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = rel.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            self._problem(
                codes.BAD_NAME,
                Severity.ERROR,
                "file name is not valid UTF-8 and cannot be stored in a zip",
                shown,
                "rename it using UTF-8, or " + codes.IGNORE_HINT,
            )
            return False
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            self._problem(
                codes.BAD_NAME,
                Severity.ERROR,
                "file name contains a control character (such as a newline)",
                rel.encode("unicode_escape").decode("ascii"),
                "rename it, or " + codes.IGNORE_HINT,
            )
            return False
        if "\\" in name:
            self._problem(
                codes.BAD_NAME,
                Severity.ERROR,
                "file name contains a backslash, which unzip tools read as a folder separator",
                rel,
                "rename it without `\\`, or " + codes.IGNORE_HINT,
            )
            return False
        return True

    def _dir(self, rel: str, path: str) -> str | None:
        """The real path of a directory to enter, or None."""
        if self.rules.prunes_dir(rel) or not self._name_ok(rel):
            return None
        if is_virtualenv(path):
            self.virtualenvs.append(rel)
            self._problem(
                codes.VIRTUALENV_SKIPPED,
                Severity.INFO,
                "virtualenv skipped: it is never bundled",
                rel,
                "add it to .gitignore to silence this note",
            )
            return None
        return path

    def _file(self, rel: str, path: str, st: os.stat_result) -> None:
        if self.rules.ignores_file(rel) or not self._name_ok(rel):
            return
        if not stat.S_ISREG(st.st_mode):
            self._problem(
                codes.SPECIAL_FILE,
                Severity.WARNING,
                "not a regular file (a pipe, socket or device) and left out of the bundle",
                rel,
                codes.IGNORE_HINT,
            )
            return
        if not os.access(path, os.R_OK):
            self._unreadable(rel, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
            return
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        entry = BundleEntry(rel, Path(path), st.st_size, st.st_mode, st.st_mtime, stamp)
        self.entries.append(entry)

    def _link(self, rel: str, path: str, ancestors: frozenset[str]) -> str | None:
        """Resolve a symbolic link: bundle its file, return its directory to enter, or report."""
        try:
            st = Path(path).stat()
        except OSError as exc:
            if self._ignored_either_way(rel) or not self._name_ok(rel):
                return None
            if exc.errno == errno.ELOOP:
                self._problem(
                    codes.LINK_LOOP,
                    Severity.ERROR,
                    "symbolic link loop",
                    rel,
                    _LINK_HINT,
                )
            elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
                self._problem(
                    codes.LINK_DANGLING,
                    Severity.ERROR,
                    f"dangling symbolic link to {str(Path(path).readlink())!r}",
                    rel,
                    "remove the link or create its target, or " + codes.IGNORE_HINT,
                )
            else:
                self._unreadable(rel, exc)
            return None
        real = os.path.realpath(path)
        is_dir = stat.S_ISDIR(st.st_mode)
        if is_dir and self.rules.prunes_dir(rel):
            return None
        if not is_dir and self.rules.ignores_file(rel):
            return None
        if not self._name_ok(rel):
            return None
        if real != self.root and not real.startswith(self.root + os.sep):
            self._problem(
                codes.LINK_OUTSIDE,
                Severity.ERROR,
                "symbolic link points outside the executor folder; the Hub cannot build from it",
                rel,
                "copy the target into the folder, or " + codes.IGNORE_HINT,
            )
            return None
        if is_dir and real in ancestors:
            self._problem(
                codes.LINK_LOOP,
                Severity.ERROR,
                "symbolic link to one of its own parent folders (a loop)",
                rel,
                _LINK_HINT,
            )
            return None
        target = os.path.relpath(real, self.root).replace(os.sep, "/")
        if not self._reachable(target, is_dir=is_dir):
            self._problem(
                codes.LINK_TO_IGNORED,
                Severity.ERROR,
                f"symbolic link to {target!r}, which the ignore rules keep out of the bundle",
                rel,
                "remove the link, or " + codes.IGNORE_HINT,
            )
            return None
        if is_dir:
            return real
        self._file(rel, real, st)
        return None

    def _reachable(self, target: str, *, is_dir: bool) -> bool:
        """Whether the walk itself would bundle ``target`` (rules, and no virtualenv on the way)."""
        if target == ".":
            return True
        if not self.rules.selects(target, is_dir=is_dir):
            return False
        parts = target.split("/")
        depth = len(parts) if is_dir else len(parts) - 1
        return not any(
            is_virtualenv(str(Path(self.root).joinpath(*parts[: n + 1]))) for n in range(depth)
        )

    def _ignored_either_way(self, rel: str) -> bool:
        return self.rules.ignores_file(rel) or self.rules.prunes_dir(rel)

    def _unreadable(self, rel: str, exc: OSError) -> None:
        self._problem(
            codes.UNREADABLE,
            Severity.ERROR,
            f"cannot read: {exc.strerror or exc}",
            rel,
            "fix its permissions, or " + codes.IGNORE_HINT,
        )

    def _problem(self, code: str, severity: Severity, message: str, rel: str, hint: str) -> None:
        if any(p.code == code and p.file == rel for p in self.problems[: self._rule_problems]):
            return  # an unreadable rule file is reported once, by load_rules
        self.problems.append(codes.finding(code, severity, message, file=rel, hint=hint))
