"""Safe extraction of an uploaded bundle (the local Hub).

Every name is checked before anything is written: no absolute paths or drive letters, no ``..``,
``.`` or empty components, no backslashes or NUL bytes, no duplicates, no file/folder clashes,
no symbolic links, no encrypted entries, no overlapping entries. Content is then streamed to
disk in chunks while the real output is counted, so neither a lying header nor a zip bomb can
exceed ``max_total_bytes`` or a per-entry ``max_ratio``. On any failure the partial output is
removed and :class:`UnsafeBundle` says why, in one line.

Speed: an uncompressed (STORED) entry is copied by the kernel (``copy_file_range``) straight
from its bytes in the zip, after its local header is checked against the central directory; its
CRC-32 is not recomputed (the Hub has checked the whole upload's MD5 against the one the client
sent, so the bytes are the client's). With ``placeholder``, an entry it selects is not read or
written at all: a sparse file of the size its header declares stands in for it, for a build
that reads names and sizes only (the local Hub's check builder and model-weight files).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final

from hubci.bundle.errors import UnsafeBundle

CHUNK: Final = 1024 * 1024
#: The compression-ratio limit applies once an entry has produced this many bytes, so small,
#: highly repetitive files (a blank CSV, padding) are not mistaken for bombs.
RATIO_GRACE_BYTES: Final = 1024 * 1024
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_UNIX: Final = 3
_EOCD_SIG: Final = b"PK\x05\x06"
_EOCD_SIZE: Final = 22
_ZIP64_LOCATOR_SIG: Final = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE: Final = 20
_ZIP64_EOCD_SIG: Final = b"PK\x06\x06"
_LOCAL_HEADER_SIG: Final = b"PK\x03\x04"
_LOCAL_HEADER_SIZE: Final = 30


def safe_extract(
    zip_path: Path,
    dest: Path,
    *,
    max_total_bytes: int,
    max_entries: int,
    max_ratio: float,
    placeholder: Callable[[str, int], bool] | None = None,
) -> list[str]:
    """Extract ``zip_path`` into ``dest`` (missing or empty); return the files' relative paths.

    ``placeholder(relpath, size)``: True when a sparse file of ``size`` bytes may stand in for
    the entry's content (it is never read)."""
    dest = Path(dest)
    declared = _declared_entries(Path(zip_path))
    if declared is not None and declared > max_entries:
        msg = f"the bundle has {declared} entries, over the limit of {max_entries}"
        raise UnsafeBundle(msg, hint="ignore files the image does not need")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        msg = f"the bundle is not a valid zip file ({exc})"
        raise UnsafeBundle(msg, hint="upload a zip archive made by hubci or jina hub push") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            msg = f"the bundle has {len(infos)} entries, over the limit of {max_entries}"
            raise UnsafeBundle(msg, hint="ignore files the image does not need")
        plan, folders = _plan(infos, zip_size=Path(zip_path).stat().st_size)
        _check_layout(archive, infos)
        _prepare(dest)
        try:
            for folder in folders:
                with _creating(folder):
                    dest.joinpath(*folder.split("/")).mkdir(parents=True, exist_ok=True)
            return _extract(archive, plan, dest, max_total_bytes, max_ratio, placeholder)
        except BaseException:
            _empty(dest)
            raise


def _declared_entries(zip_path: Path) -> int | None:
    """The entry count the end-of-central-directory record declares (None: no such record).

    Read before ``zipfile`` parses the central directory, so a zip declaring millions of
    entries is refused without building millions of objects first.
    """
    with zip_path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail_len = min(size, _EOCD_SIZE + 0xFFFF + _ZIP64_LOCATOR_SIZE)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(_EOCD_SIG)
        if pos < 0 or pos + _EOCD_SIZE > len(tail):
            return None
        (count,) = struct.unpack_from("<H", tail, pos + 10)
        locator = pos - _ZIP64_LOCATOR_SIZE
        if count != 0xFFFF or locator < 0 or tail[locator : locator + 4] != _ZIP64_LOCATOR_SIG:
            return int(count)
        (offset,) = struct.unpack_from("<Q", tail, locator + 8)
        fh.seek(offset)
        record = fh.read(40)
        if len(record) < 40 or record[:4] != _ZIP64_EOCD_SIG:
            return None
        (count64,) = struct.unpack_from("<Q", record, 32)
        return int(count64)


def _plan(
    infos: list[zipfile.ZipInfo], *, zip_size: int
) -> tuple[list[tuple[zipfile.ZipInfo, str]], list[str]]:
    """Check every entry: (entry, relative path) of each file in archive order, and the
    folders the archive lists explicitly (empty ones included)."""
    files: set[str] = set()
    dirs: set[str] = set()
    offsets: set[int] = set()
    plan: list[tuple[zipfile.ZipInfo, str]] = []
    folders: list[str] = []
    explicit: set[str] = set()
    for info in infos:
        name = _checked_name(info)
        is_dir = name.endswith("/")
        rel = name.rstrip("/")
        if info.header_offset in offsets:
            raise _unsafe(name, "shares its data with another entry (overlapping entries)")
        offsets.add(info.header_offset)
        if info.compress_size > zip_size:
            raise _unsafe(name, "claims more compressed data than the file holds")
        if info.flag_bits & 0x1:
            raise _unsafe(name, "is encrypted")
        mode = info.external_attr >> 16
        if info.create_system == _UNIX and stat.S_ISLNK(mode):
            raise _unsafe(name, "is a symbolic link; bundles must hold the files themselves")
        parts = rel.split("/")
        parents = ["/".join(parts[:n]) for n in range(1, len(parts))]
        clash = next((p for p in parents if p in files), None)
        if clash is not None:
            raise _unsafe(name, f"lies below {clash!r}, which is a file")
        if rel in files or (is_dir and rel in explicit):
            raise _unsafe(name, "appears twice")
        if not is_dir and rel in dirs:
            raise _unsafe(name, "is both a file and a folder")
        dirs.update(parents)
        if is_dir:
            dirs.add(rel)
            explicit.add(rel)
            folders.append(rel)
        else:
            files.add(rel)
            plan.append((info, rel))
    return plan, folders


def _check_layout(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Each entry's local header and data end before the next entry (or the central
    directory) begins: no two entries share bytes, so nothing read later (a copy of an entry
    the build never opened, hubci.bundle.overlay) can be made larger than the upload."""
    raw = archive.fp
    assert raw is not None  # an open archive
    ordered = sorted(infos, key=lambda info: info.header_offset)
    limits = [info.header_offset for info in ordered[1:]] + [int(archive.start_dir)]
    for info, limit in zip(ordered, limits, strict=True):
        header = os.pread(raw.fileno(), _LOCAL_HEADER_SIZE, info.header_offset)
        if len(header) < _LOCAL_HEADER_SIZE or header[:4] != _LOCAL_HEADER_SIG:
            raise _unsafe(info.filename, "is corrupt (no local file header where it starts)")
        name_len, extra_len = (int(n) for n in struct.unpack_from("<HH", header, 26))
        end = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len + info.compress_size
        if end > limit:
            raise _unsafe(info.filename, "overlaps the next entry or the central directory")


def _checked_name(info: zipfile.ZipInfo) -> str:
    raw = info.orig_filename
    if "\x00" in raw:
        raise _unsafe(raw.replace("\x00", "\\0"), "contains a NUL byte")
    name = info.filename
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _unsafe(name, "contains a control character")
    if "\\" in name:
        raise _unsafe(name, "contains a backslash (a path separator on Windows)")
    if name.startswith("/") or _DRIVE.match(name):
        raise _unsafe(name, "is an absolute path")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        raise _unsafe(name, "climbs out of the bundle with `..`")
    if not name.rstrip("/") or any(part in ("", ".") for part in parts):
        raise _unsafe(name, "is not a normalised relative path")
    return name


def _prepare(dest: Path) -> None:
    if dest.is_symlink():
        msg = f"extraction folder {dest} is a symbolic link"
        raise ValueError(msg)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        msg = f"extraction folder {dest} is not empty"
        raise ValueError(msg)


def _extract(
    archive: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, str]],
    dest: Path,
    max_total_bytes: int,
    max_ratio: float,
    placeholder: Callable[[str, int], bool] | None,
) -> list[str]:
    total = 0
    done: list[str] = []
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    raw = archive.fp
    assert raw is not None  # an open archive
    zip_size = os.fstat(raw.fileno()).st_size
    for info, rel in plan:
        target = dest.joinpath(*rel.split("/"))
        mode = info.external_attr >> 16 if info.create_system == _UNIX else 0
        perm = 0o755 if mode & 0o111 else 0o644
        stored = info.compress_type == zipfile.ZIP_STORED
        with _creating(rel):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, flags, perm)
        try:
            if placeholder is not None and placeholder(rel, info.file_size):
                total += info.file_size
                _check_total(total, max_total_bytes)
                os.ftruncate(fd, info.file_size)  # sparse: nothing read or written
            elif stored:
                total += info.file_size
                _check_total(total, max_total_bytes)
                start = _data_start(raw, info, rel, zip_size)
                _copy_range(raw.fileno(), fd, start, info.file_size)
            else:
                total = _inflate(archive, info, rel, fd, total, max_total_bytes, max_ratio)
        finally:
            os.close(fd)
        done.append(rel)
    return done


def _check_total(total: int, max_total_bytes: int) -> None:
    if total > max_total_bytes:
        msg = f"the bundle unpacks to more than {max_total_bytes} bytes"
        raise UnsafeBundle(msg, hint="upload a smaller bundle")


def _inflate(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    rel: str,
    fd: int,
    total: int,
    max_total_bytes: int,
    max_ratio: float,
) -> int:
    """Decompress one entry into ``fd`` in chunks, counting its real output; the new total."""
    ratio_cap = max(max_ratio * info.compress_size, RATIO_GRACE_BYTES)
    written = 0
    try:
        with archive.open(info) as src:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                total += len(chunk)
                _check_total(total, max_total_bytes)
                if written > ratio_cap:
                    raise _unsafe(rel, f"expands more than {max_ratio:g} times (a zip bomb?)")
                _write_all(fd, chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _unsafe(rel, f"is corrupt ({exc})") from exc
    except NotImplementedError as exc:
        raise _unsafe(rel, f"uses an unsupported compression method ({exc})") from exc
    return total


def _data_start(raw: IO[bytes], info: zipfile.ZipInfo, rel: str, zip_size: int) -> int:
    """Where a STORED entry's bytes begin, after checking its local header as ``zipfile`` does
    (signature, the same name) and that the bytes lie inside the file."""
    header = os.pread(raw.fileno(), _LOCAL_HEADER_SIZE, info.header_offset)
    if len(header) < _LOCAL_HEADER_SIZE or header[:4] != _LOCAL_HEADER_SIG:
        raise _unsafe(rel, "is corrupt (bad local file header)")
    name_len, extra_len = (int(n) for n in struct.unpack_from("<HH", header, 26))
    name = os.pread(raw.fileno(), name_len, info.header_offset + _LOCAL_HEADER_SIZE)
    try:
        expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        expected = b""
    if name != expected:
        raise _unsafe(rel, "is corrupt (its local header names another file)")
    start = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len
    if info.compress_size != info.file_size or start + info.file_size > zip_size:
        raise _unsafe(rel, "is corrupt (its stored size does not fit the file)")
    return start


def _copy_range(src: int, dst: int, offset: int, count: int) -> None:
    """``count`` bytes of ``src`` from ``offset`` to ``dst``, in the kernel where it can."""
    done = 0
    while done < count:
        try:
            moved = os.copy_file_range(src, dst, count - done, offset + done)
        except (AttributeError, OSError):  # not Linux, or not between these file systems
            moved = 0
        if moved == 0:
            piece = os.pread(src, min(CHUNK, count - done), offset + done)
            if not piece:
                raise UnsafeBundle("the bundle ends before one of its entries does")
            _write_all(dst, piece)
            moved = len(piece)
        done += moved


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextmanager
def _creating(rel: str) -> Iterator[None]:
    """Turn the ways creating ``rel`` can fail because of its name into UnsafeBundle."""
    try:
        yield
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        why = "collides with another entry on this file system (names differing in case?)"
        raise _unsafe(rel, why) from exc
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise _unsafe(rel, "has a name too long for this file system") from exc
        raise


def _empty(dest: Path) -> None:
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _unsafe(name: str, why: str) -> UnsafeBundle:
    return UnsafeBundle(
        f"unsafe bundle: entry {name!r} {why}",
        hint="rebuild the bundle with hubci push or jina hub push",
    )
