"""Bundles this machine has made: skip zipping a folder whose files have not changed since.

A bundle is deterministic, so its MD5 is a function of the selected files' names, modes and
contents. Reading and hashing a 1 GB folder takes seconds; finding out that none of its files
changed takes a ``stat`` per file. As git's index does, each file is recognised by its size,
modification and change times (nanoseconds) and inode: an edit changes the change time, which
no tool can set back. The MD5, size and file count of a bundle are kept under the fingerprint
of those stamps (``$XDG_CACHE_HOME/hubci/bundles.json``), so ``hubci push`` of an unchanged
folder can ask the Hub whether it has that build before zipping anything.

A folder is only remembered when every file is older than :data:`RACY_SECONDS` before the walk
began: a file written in the same clock tick as the walk could change again without its stamps
changing (git's "racily clean" entries). The cache holds :data:`MAX_BUNDLES` bundles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from hubci.bundle import cache

if TYPE_CHECKING:
    from hubci.bundle.files import FileSet

#: Bumped whenever the zip layout changes (the same files would give another MD5).
BUNDLE_FORMAT: Final = "hubci-bundle-1"
RACY_SECONDS: Final = 2.0
MAX_BUNDLES: Final = 256
CACHE_NAME: Final = "bundles.json"


@dataclass(frozen=True)
class KnownBundle:
    md5: str
    size: int
    files: int


def fingerprint(fileset: FileSet, walked_ns: int) -> str | None:
    """The stamps of every selected file, as one digest; None when the folder cannot be
    remembered (a file without stamps, or one changed within RACY_SECONDS of ``walked_ns``,
    the ``time.time_ns()`` taken before the walk)."""
    if not fileset.entries:
        return None
    newest_allowed = walked_ns - int(RACY_SECONDS * 1e9)
    from hubci import __version__  # another hubci may zip the same files differently

    digest = hashlib.sha256(f"{BUNDLE_FORMAT}\0{__version__}".encode())
    for entry in fileset.entries:
        mtime_ns, ctime_ns, ino, dev = entry.stamp
        if not ino or max(mtime_ns, ctime_ns) >= newest_allowed:
            return None
        executable = int(bool(entry.mode & 0o111))
        line = (
            f"{entry.relpath}\0{entry.size}\0{executable}\0{mtime_ns}\0{ctime_ns}\0{ino}\0{dev}\n"
        )
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def recall(key: str | None) -> KnownBundle | None:
    """The bundle made from the files ``key`` fingerprints, if this machine made it."""
    if key is None:
        return None
    data = cache.load(cache.cache_path(CACHE_NAME))
    entry = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        return None
    md5, size, files = entry.get("md5"), entry.get("size"), entry.get("files")
    if not (isinstance(md5, str) and len(md5) == 32 and all(c in "0123456789abcdef" for c in md5)):
        return None
    if not (isinstance(size, int) and isinstance(files, int) and size > 0 and files > 0):
        return None
    return KnownBundle(md5, size, files)


def remember(key: str | None, bundle: KnownBundle) -> None:
    """Keep ``bundle`` under ``key`` (the oldest entries make room past MAX_BUNDLES)."""
    if key is None:
        return
    path = cache.cache_path(CACHE_NAME)
    data = cache.load(path)
    entries = (
        {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}
    )
    entries.pop(key, None)
    entries[key] = {"md5": bundle.md5, "size": bundle.size, "files": bundle.files}
    cache.store(path, dict(list(entries.items())[-MAX_BUNDLES:]))
