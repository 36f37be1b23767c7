"""A bundle with some files replaced or added, written without unpacking the rest.

The local Hub serves what it built: the uploaded bundle plus what its normalizer wrote
(a generated ``config.yml`` or Dockerfile, ``requirements.txt`` merged with ``pyproject.toml``).
Those are a few small files, the rest may be a gigabyte of model weights: every other entry is
copied byte for byte (local header, data) from the uploaded zip, and the central directory is
written anew with each entry's new offset. The result is a plain zip any unzip tool reads; its
MD5 is computed as it is written.

An entry the copy cannot carry over as it is (a data descriptor, ZIP64 fields, more than 4 GiB
in all) makes :func:`overlay_bundle` rewrite the whole zip through :mod:`zipfile` instead.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

_LOCAL: Final = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL: Final = struct.Struct("<4sBBHHHHHIIIHHHHHII")
_END: Final = struct.Struct("<4sHHHHIIH")
_LIMIT: Final = 0xFFFFFFFF
_CHUNK: Final = 1 << 20
#: 1980-01-01 00:00, as every hubci bundle entry
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    md5: str


class _Writer:
    """Writes to ``stream`` while counting the bytes and hashing them."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.md5 = hashlib.md5()
        self.offset = 0

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.md5.update(data)
        self.offset += len(data)


class _Unsupported(Exception):
    """An entry the byte copy cannot carry over; the zip is rewritten instead."""


def overlay_bundle(source: Path, dest: Path, files: Mapping[str, bytes]) -> Written:
    """Write ``dest``: the entries of ``source`` except those named in ``files``, then
    ``files`` (sorted, DEFLATEd). Atomic: a partial ``dest`` never appears."""
    partial = dest.with_name(f".{dest.name}.part")
    try:
        try:
            md5 = _copy(source, partial, files)
        except _Unsupported:
            md5 = _rewrite(source, partial, files)
        partial.replace(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Written(dest, dest.stat().st_size, md5)


def _copy(source: Path, dest: Path, files: Mapping[str, bytes]) -> str:
    with zipfile.ZipFile(source) as archive:
        infos = [info for info in archive.infolist() if info.filename not in files]
    central: list[bytes] = []
    with source.open("rb") as raw, dest.open("wb") as stream:
        out = _Writer(stream)
        for info in infos:
            if info.flag_bits & 0x08 or _LIMIT in (info.file_size, info.compress_size):
                raise _Unsupported
            header = os.pread(raw.fileno(), _LOCAL.size, info.header_offset)
            if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
                raise _Unsupported
            (flags,) = struct.unpack_from("<H", header, 6)
            name_len, extra_len = struct.unpack_from("<HH", header, 26)
            raw_name = os.pread(raw.fileno(), name_len, info.header_offset + _LOCAL.size)
            length = _LOCAL.size + name_len + extra_len + info.compress_size
            offset = out.offset
            _copy_bytes(raw, info.header_offset, length, out)
            central.append(_central(info, offset, int(flags), raw_name))
        for name, data in sorted(files.items()):
            central.append(_add(out, name, data))
        directory_at = out.offset
        for record in central:
            out.write(record)
        if out.offset > _LIMIT or len(central) >= 0xFFFF:
            raise _Unsupported
        out.write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                len(central),
                len(central),
                out.offset - directory_at,
                directory_at,
                0,
            )
        )
        return out.md5.hexdigest()


def _copy_bytes(raw: IO[bytes], start: int, length: int, out: _Writer) -> None:
    done = 0
    while done < length:
        piece = os.pread(raw.fileno(), min(_CHUNK, length - done), start + done)
        if not piece:
            raise _Unsupported  # the entry runs past the end of the file
        out.write(piece)
        done += len(piece)


def _central(info: zipfile.ZipInfo, offset: int, flags: int, name: bytes) -> bytes:
    """The central record of an entry written at ``offset``: the flags and name bytes as in
    its local header (unzip checks that they agree), the rest from ``info``."""
    if offset > _LIMIT:
        raise _Unsupported
    dos_time = (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2)
    dos_date = ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2]
    return (
        _CENTRAL.pack(
            b"PK\x01\x02",
            info.create_version,
            info.create_system,
            info.extract_version,
            flags,
            info.compress_type,
            dos_time,
            dos_date,
            info.CRC,
            info.compress_size,
            info.file_size,
            len(name),
            0,
            0,
            0,
            info.internal_attr,
            info.external_attr,
            offset,
        )
        + name
    )


def _add(out: _Writer, name: str, data: bytes) -> bytes:
    """Write one new DEFLATEd entry (mode 0644); return its central directory record."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    payload = packer.compress(data) + packer.flush()
    crc = zlib.crc32(data)
    raw_name = name.encode("utf-8")
    offset = out.offset
    out.write(
        _LOCAL.pack(
            b"PK\x03\x04",
            20,
            0x800,
            zipfile.ZIP_DEFLATED,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            len(payload),
            len(data),
            len(raw_name),
            0,
        )
        + raw_name
        + payload
    )
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.create_version, entry.create_system, entry.extract_version = 20, 3, 20
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.CRC, entry.compress_size, entry.file_size = crc, len(payload), len(data)
    entry.external_attr = 0o100644 << 16
    return _central(entry, offset, 0x800, raw_name)


def _rewrite(source: Path, dest: Path, files: Mapping[str, bytes]) -> str:
    """The slow path: every entry decompressed and written again by :mod:`zipfile`."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(dest, "w", allowZip64=True) as target:
        for info in archive.infolist():
            if info.filename in files:
                continue
            with archive.open(info) as src, target.open(info, "w", force_zip64=True) as dst:
                while chunk := src.read(_CHUNK):
                    dst.write(chunk)
        for name, data in sorted(files.items()):
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    digest = hashlib.md5()
    with dest.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
