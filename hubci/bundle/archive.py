"""The deterministic, streamed bundle zip.

Same content, same bytes, same md5: entries are sorted by path, carry a fixed 1980-01-01 00:00:00
timestamp, Unix permissions 0644 (0755 when the file has any execute bit), no directory entries
and no extra fields. File modification times, the umask, the walk order and the machine do not
leak into the archive (one caveat: DEFLATE output is the zlib library's, which every CPython
build ships at the same level-6 behaviour in practice).

File content is streamed in :data:`CHUNK` pieces, never held whole in memory. Each local header
carries the real CRC and sizes (zipfile seeks back once per entry to fill them in; no data
descriptors), so the zip is as plain as the official client's and even streaming unzippers read
it. The md5 is fed entry by entry, as soon as an entry is final, from the bytes just written.
Entries that need it get ZIP64 headers. Data that does not compress is STORED, not DEFLATEd.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from hubci.bundle.errors import BundleError
from hubci.bundle.files import BundleEntry, FileSet

ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
CHUNK: Final = 1024 * 1024
#: The prefix of a file of unknown type that is test-compressed to choose the method.
SAMPLE: Final = 64 * 1024
#: STORED when level-1 DEFLATE saves less than 10 % on the sample.
INCOMPRESSIBLE_RATIO: Final = 0.9
#: Already-compressed or high-entropy formats: STORED without looking.
STORED_SUFFIXES: Final = frozenset(
    {
        # model weights and tensors
        ".onnx", ".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".npy", ".npz", ".h5",
        ".hdf5", ".pb", ".tflite", ".gguf", ".ggml", ".mlmodel", ".params", ".msgpack",
        # archives and compressed streams
        ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".lz4", ".lzma", ".zip", ".7z",
        ".rar", ".jar", ".whl", ".egg", ".apk",
        # images
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".jxl",
        # audio and video
        ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".mp4", ".m4v", ".mkv",
        ".webm", ".mov", ".avi",
        # fonts
        ".woff", ".woff2",
    }
)  # fmt: skip

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Bundle:
    """A written bundle zip."""

    path: Path
    size: int  # bytes of the zip
    md5: str  # hex digest of the zip's bytes (the Hub's `md5sum`)
    files: int
    content_bytes: int  # uncompressed bytes of all entries


def compression_for(relpath: str, sample: bytes) -> int:
    """``zipfile.ZIP_STORED`` or ``ZIP_DEFLATED`` for a file, given its first bytes."""
    suffix = PurePosixPath(relpath).suffix.lower()
    if suffix in STORED_SUFFIXES or not sample:
        return zipfile.ZIP_STORED
    probe = sample[:SAMPLE]
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw DEFLATE, as in a zip
    packed = len(deflate.compress(probe)) + len(deflate.flush())
    if packed > INCOMPRESSIBLE_RATIO * len(probe):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def write_bundle(
    fileset: FileSet,
    dest: Path,
    *,
    progress: ProgressCallback | None = None,
    force_zip64: bool = False,
) -> Bundle:
    """Write the deterministic zip of ``fileset`` to ``dest`` (atomically) and return it.

    ``progress(bytes_done, bytes_total)`` is called as content is written. ``force_zip64``
    gives every entry ZIP64 headers; entries near 4 GiB get them anyway.
    """
    total = fileset.content_bytes
    dest = Path(dest)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise _cannot_write(dest, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as raw:
            hasher = _FinishedBytesHasher(raw)
            done = 0
            with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
                for entry in fileset.entries:
                    done = _write_entry(zf, entry, done, total, progress, force_zip64)
                    hasher.catch_up()  # the entry and its rewritten header are final now
            hasher.catch_up()  # the central directory
        tmp.chmod(0o644)
        tmp.replace(dest)
    except OSError as exc:  # the zip itself could not be written (reads raise BundleError)
        tmp.unlink(missing_ok=True)
        raise _cannot_write(dest, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if progress is not None and not fileset.entries:
        progress(0, 0)
    return Bundle(
        path=dest,
        size=hasher.count,
        md5=hasher.md5.hexdigest(),
        files=len(fileset.entries),
        content_bytes=done,
    )


def _cannot_write(dest: Path, exc: OSError) -> BundleError:
    msg = f"cannot write the bundle to {dest}: {exc.strerror or exc}"
    return BundleError(msg, hint=f"check free space and permissions of {dest.parent}")


def zip_info(relpath: str, mode: int, method: int, size: int) -> zipfile.ZipInfo:
    """The fixed header fields of one entry."""
    info = zipfile.ZipInfo(relpath, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, so external_attr carries permissions
    perm = 0o755 if mode & 0o111 else 0o644
    info.external_attr = (stat.S_IFREG | perm) << 16
    info.compress_type = method
    info.file_size = size  # lets zipfile choose ZIP64 headers up front
    return info


def _write_entry(
    zf: zipfile.ZipFile,
    entry: BundleEntry,
    done: int,
    total: int,
    progress: ProgressCallback | None,
    force_zip64: bool,
) -> int:
    written = 0
    try:
        with open(entry.path, "rb") as src:
            chunk = src.read(CHUNK)
            method = compression_for(entry.relpath, chunk)
            info = zip_info(entry.relpath, entry.mode, method, entry.size)
            with zf.open(info, "w", force_zip64=force_zip64) as dst:
                while chunk:
                    dst.write(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(done + written, total)
                    chunk = src.read(CHUNK)
    except OSError as exc:
        msg = f"cannot read {entry.relpath} while bundling: {exc.strerror or exc}"
        raise BundleError(msg, hint="check the file still exists and is readable") from exc
    except RuntimeError as exc:  # zipfile: grew past 4 GiB without ZIP64 headers
        msg = f"{entry.relpath} changed while bundling"
        raise BundleError(msg, hint="stop whatever writes to it, then retry") from exc
    if written != entry.size:
        msg = f"{entry.relpath} changed while bundling ({entry.size} bytes, then {written})"
        raise BundleError(msg, hint="stop whatever writes to it, then retry")
    return done + written


class _FinishedBytesHasher:
    """The md5 of a file being written, fed with each region as soon as it is final.

    zipfile writes an entry's local header, streams its data, then seeks back once to fill in
    the header's CRC and sizes. After that the entry never changes, so :meth:`catch_up` hashes
    it right away, reading it back while it is still in the page cache, in chunks.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.count = 0

    def catch_up(self) -> None:
        end = self._raw.seek(0, os.SEEK_END)
        self._raw.seek(self.count)
        while self.count < end:
            block = self._raw.read(min(CHUNK, end - self.count))
            if not block:
                msg = "the bundle file shrank while it was being written"
                raise OSError(msg)
            self.md5.update(block)
            self.count += len(block)
