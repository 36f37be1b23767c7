"""Bundle-safety and secret-file findings for one executor folder (``hubci validate``)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Final

from hubci.bundle import codes
from hubci.bundle.files import BundleEntry, FileSet, collect_files
from hubci.bundle.secretfiles import secret_findings
from hubci.findings import Finding, Severity
from hubci.output.sizes import human_size

#: How many files/folders a limit hint names.
_NAMED: Final = 3
#: Above this many pre-1980 files, one finding sums them up.
_MTIME_EACH: Final = 5


def bundle_findings(
    folder: Path, *, max_bytes: int, max_files: int, fileset: FileSet | None = None
) -> list[Finding]:
    """Everything about the bundle of ``folder`` a user should hear before pushing it.

    Pass ``fileset`` when :func:`collect_files` already ran, so the folder is walked once.
    """
    files = fileset if fileset is not None else collect_files(folder)
    out = list(files.problems)
    out += _limit_findings(files.entries, max_bytes=max_bytes, max_files=max_files)
    out += _mtime_findings(files.entries)
    out += secret_findings(files.entries)
    return out


def _limit_findings(entries: list[BundleEntry], *, max_bytes: int, max_files: int) -> list[Finding]:
    out: list[Finding] = []
    total = sum(entry.size for entry in entries)
    if total > max_bytes:
        biggest = sorted(entries, key=lambda e: (-e.size, e.relpath))[:_NAMED]
        named = ", ".join(f"{e.relpath} ({human_size(e.size)})" for e in biggest)
        out.append(
            codes.finding(
                codes.TOO_BIG,
                Severity.ERROR,
                f"the bundle would hold {human_size(total)}, over the limit of "
                f"{human_size(max_bytes)}",
                hint=f"biggest files: {named}; ignore them (.gitignore/.dockerignore) and "
                "download big models at build or start time",
            )
        )
    if len(entries) > max_files:
        per_dir = Counter(e.relpath.rsplit("/", 1)[0] if "/" in e.relpath else "." for e in entries)
        crowded = sorted(per_dir.items(), key=lambda kv: (-kv[1], kv[0]))[:_NAMED]
        named = ", ".join(f"{d}/ ({n} file{'' if n == 1 else 's'})" for d, n in crowded)
        out.append(
            codes.finding(
                codes.TOO_MANY_FILES,
                Severity.ERROR,
                f"the bundle would hold {len(entries)} files, over the limit of {max_files}",
                hint=f"fullest folders: {named}; ignore what the image does not need",
            )
        )
    return out


def _mtime_findings(entries: list[BundleEntry]) -> list[Finding]:
    old = [e for e in entries if _before_1980(e.mtime)]
    hint = (
        "hubci stores every file with a fixed 1980-01-01 timestamp, but other zip tools "
        "(and the official client) fail on such files; `touch` them to fix it"
    )
    message = "modification time before 1980, which a zip file cannot store"
    if len(old) <= _MTIME_EACH:
        return [
            codes.finding(
                codes.MTIME_BEFORE_1980, Severity.WARNING, message, file=e.relpath, hint=hint
            )
            for e in old
        ]
    examples = ", ".join(e.relpath for e in old[:_NAMED])
    return [
        codes.finding(
            codes.MTIME_BEFORE_1980,
            Severity.WARNING,
            f"{len(old)} files have a {message} (e.g. {examples})",
            hint=hint,
        )
    ]


def _before_1980(mtime: float) -> bool:
    try:
        return time.localtime(mtime).tm_year < 1980
    except (OverflowError, OSError, ValueError):
        return mtime < 0
