"""safe_extract on good bundles and on hand-crafted hostile zips."""

from __future__ import annotations

import random
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubci.bundle import UnsafeBundle, collect_files, safe_extract, write_bundle
from hubci.errors import HubciError

LIMITS = {"max_total_bytes": 50 * 1024 * 1024, "max_entries": 100, "max_ratio": 100.0}


@dataclass
class Raw:
    """One entry of a hand-made zip: every header field under the test's control."""

    name: bytes
    data: bytes = b"content"
    deflate: bool = False
    mode: int = stat.S_IFREG | 0o644
    flags: int = 0
    declared_size: int | None = None  # lie about the uncompressed size
    offset: int | None = None  # point the central record at another entry's data
    method: int | None = None  # override the compression method field
    local_name: bytes | None = None  # a different name in the local header
    central_csize: int | None = None  # lie about the compressed size in the central directory


def raw_zip(path: Path, entries: list[Raw]) -> Path:
    """Write a zip byte by byte (zipfile refuses to write most of these)."""
    body = b""
    central = b""
    offsets: list[int] = []
    for entry in entries:
        crc = zlib.crc32(entry.data)
        if entry.deflate:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = packer.compress(entry.data) + packer.flush()
        else:
            payload = entry.data
        method = (8 if entry.deflate else 0) if entry.method is None else entry.method
        size = len(entry.data) if entry.declared_size is None else entry.declared_size
        offsets.append(len(body))
        offset = offsets[-1] if entry.offset is None else offsets[entry.offset]
        body += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, entry.flags, method, 0, 0x21, crc, len(payload), size,
            len(entry.local_name or entry.name), 0,
        ) + (entry.local_name or entry.name) + payload  # fmt: skip
        csize = len(payload) if entry.central_csize is None else entry.central_csize
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, entry.flags, method, 0, 0x21, crc,
            csize, size, len(entry.name), 0, 0, 0, 0, entry.mode << 16, offset,
        ) + entry.name  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(body), 0
    )
    path.write_bytes(body + central + end)
    return path


def extract(
    zip_path: Path,
    dest: Path,
    placeholder: Callable[[str, int], bool] | None = None,
    **overrides: float,
) -> list[str]:
    limits = {**LIMITS, **overrides}
    return safe_extract(
        zip_path,
        dest,
        max_total_bytes=int(limits["max_total_bytes"]),
        max_entries=int(limits["max_entries"]),
        max_ratio=float(limits["max_ratio"]),
        placeholder=placeholder,
    )


def test_round_trip_of_a_hubci_bundle(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "config.yml").write_text("jtype: E\n")
    (src / "pkg" / "mod.py").write_text("x = 1\n" * 1000)
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o4755)  # the setuid bit must not survive
    (src / "w.bin").write_bytes(random.Random(1).randbytes(300_000))
    bundle = write_bundle(collect_files(src), tmp_path / "b.zip")
    dest = tmp_path / "out"
    names = extract(bundle.path, dest)
    assert names == ["config.yml", "pkg/mod.py", "run.sh", "w.bin"]
    for name in names:
        assert (dest / name).read_bytes() == (src / name).read_bytes()
    assert stat.S_IMODE((dest / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "config.yml").stat().st_mode) == 0o644


def test_official_style_zip_with_folder_entries(tmp_path: Path) -> None:
    zip_path = tmp_path / "b.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("empty/", "")
        zf.writestr("a/b/c.txt", "c")
        zf.writestr("a/", "")
    dest = tmp_path / "out"
    assert extract(zip_path, dest) == ["a/b/c.txt"]
    assert (dest / "empty").is_dir()
    assert (dest / "a/b/c.txt").read_text() == "c"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"../evil.py", "climbs out of the bundle"),
        (b"a/../../evil.py", "climbs out of the bundle"),
        (b"/etc/cron.d/evil", "is an absolute path"),
        (b"C:/Windows/evil.dll", "is an absolute path"),
        (b"C:evil", "is an absolute path"),
        (b"..\\..\\evil.py", "contains a backslash"),
        (b"a\\b", "contains a backslash"),
        (b"a/./b", "is not a normalised relative path"),
        (b"a//b", "is not a normalised relative path"),
        (b"./a", "is not a normalised relative path"),
        (b"good.py\x00../../evil", "contains a NUL byte"),
        (b"new\nline.py", "contains a control character"),
    ],
)
def test_hostile_names(tmp_path: Path, name: bytes, why: str) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"ok.txt"), Raw(name)])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=why) as info:
        extract(zip_path, dest)
    assert "\n" not in info.value.format_message()
    assert not (tmp_path / "evil.py").exists()
    assert list(dest.iterdir()) == [] if dest.exists() else True


@pytest.mark.parametrize("target", [b"../../etc/passwd", b"/etc/passwd", b"inside.txt"])
def test_symlink_entries_are_refused(tmp_path: Path, target: bytes) -> None:
    zip_path = raw_zip(
        tmp_path / "b.zip",
        [Raw(b"inside.txt"), Raw(b"link", data=target, mode=stat.S_IFLNK | 0o777)],
    )
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=r"entry 'link' is a symbolic link"):
        extract(zip_path, dest)
    assert not (dest / "link").is_symlink()


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    zip_path = raw_zip(
        tmp_path / "b.zip",
        [Raw(b"first.txt"), Raw(b"bomb.txt", data=b"\0" * (8 * 1024 * 1024), deflate=True)],
    )
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=r"entry 'bomb.txt' expands more than 100 times"):
        extract(zip_path, dest)
    assert list(dest.iterdir()) == []  # the partial output is removed


def test_small_repetitive_files_are_not_bombs(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"blank.csv", data=b",\n" * 200_000, deflate=True)])
    assert extract(zip_path, tmp_path / "out") == ["blank.csv"]


def test_total_size_is_counted_while_streaming(tmp_path: Path) -> None:
    chunk = random.Random(2).randbytes(400_000)
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(f"f{i}".encode(), data=chunk) for i in range(5)])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=r"unpacks to more than 1000000 bytes"):
        extract(zip_path, dest, max_total_bytes=1_000_000)
    assert list(dest.iterdir()) == []


def test_lying_size_header_is_caught(tmp_path: Path) -> None:
    data = b"x" * 100_000
    zip_path = raw_zip(
        tmp_path / "b.zip", [Raw(b"liar.txt", data=data, deflate=True, declared_size=10)]
    )
    with pytest.raises(UnsafeBundle, match=r"entry 'liar.txt' is corrupt"):
        extract(zip_path, tmp_path / "out")


def test_too_many_entries(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(f"f{i}".encode()) for i in range(11)])
    with pytest.raises(UnsafeBundle, match=r"has 11 entries, over the limit of 10"):
        extract(zip_path, tmp_path / "out", max_entries=10)
    assert not (tmp_path / "out").exists()  # refused before anything is written


@pytest.mark.parametrize(
    ("names", "why"),
    [
        ([b"a.txt", b"a.txt"], "appears twice"),
        ([b"d/", b"d/"], "appears twice"),
        ([b"a", b"a/b"], "lies below 'a', which is a file"),
        ([b"a/b", b"a"], "is both a file and a folder"),
        ([b"a/", b"a"], "is both a file and a folder"),
    ],
)
def test_duplicates_and_clashes(tmp_path: Path, names: list[bytes], why: str) -> None:
    zip_path = raw_zip(
        tmp_path / "b.zip", [Raw(n, data=b"" if n.endswith(b"/") else b"x") for n in names]
    )
    with pytest.raises(UnsafeBundle, match=why):
        extract(zip_path, tmp_path / "out")


def test_overlapping_entries(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"a.txt"), Raw(b"b.txt", offset=0)])
    with pytest.raises(UnsafeBundle, match=r"overlapping entries"):
        extract(zip_path, tmp_path / "out")


def test_encrypted_entries(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"secret.txt", flags=0x1)])
    with pytest.raises(UnsafeBundle, match=r"entry 'secret.txt' is encrypted"):
        extract(zip_path, tmp_path / "out")


def test_not_a_zip(tmp_path: Path) -> None:
    junk = tmp_path / "b.zip"
    junk.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(UnsafeBundle, match=r"^the bundle is not a valid zip file") as info:
        extract(junk, tmp_path / "out")
    assert isinstance(info.value, HubciError)


def test_destination_must_be_empty(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"a.txt")])
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "existing").write_text("keep me")
    with pytest.raises(ValueError, match="is not empty"):
        extract(zip_path, dest)
    assert (dest / "existing").read_text() == "keep me"


def test_declared_entry_count_is_checked_before_parsing(tmp_path: Path) -> None:
    # an end-of-central-directory record claiming 60,000 entries (none exist)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 60_000, 60_000, 0, 0, 0)
    zip_path = tmp_path / "b.zip"
    zip_path.write_bytes(eocd)
    with pytest.raises(UnsafeBundle, match=r"has 60000 entries, over the limit of 100"):
        extract(zip_path, tmp_path / "out")


def test_declared_zip64_entry_count_is_checked_before_parsing(tmp_path: Path) -> None:
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 2**40, 2**40, 0, 0)
    locator = struct.pack("<IIQI", 0x07064B50, 0, 0, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0, 0xFFFFFFFF, 0)
    zip_path = tmp_path / "b.zip"
    zip_path.write_bytes(record + locator + eocd)
    with pytest.raises(UnsafeBundle, match=rf"has {2**40} entries, over the limit of 100"):
        extract(zip_path, tmp_path / "out")


def test_zip64_bundle_extracts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a" * 5000)
    bundle = write_bundle(collect_files(src), tmp_path / "b.zip", force_zip64=True)
    dest = tmp_path / "out"
    assert extract(bundle.path, dest) == ["a.txt"]
    assert (dest / "a.txt").read_text() == "a" * 5000


def test_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"x" * 300)])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=r"has a name too long for this file system"):
        extract(zip_path, dest)
    assert list(dest.iterdir()) == []


def test_unsupported_compression_method(tmp_path: Path) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"ok.txt"), Raw(b"odd.bin", method=99)])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeBundle, match=r"entry 'odd.bin' uses an unsupported compression"):
        extract(zip_path, dest)
    assert list(dest.iterdir()) == []


def test_stored_entries_are_copied_exactly(tmp_path: Path) -> None:
    """Incompressible files are STORED and copied by the kernel from the zip's bytes."""
    rng = random.Random(7)
    blobs = {f"w{i}.bin": rng.randbytes(size) for i, size in enumerate([0, 1, 3_000_001])}
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(n.encode(), data=d) for n, d in blobs.items()])
    assert sorted(extract(zip_path, tmp_path / "out")) == sorted(blobs)
    for name, data in blobs.items():
        assert (tmp_path / "out" / name).read_bytes() == data


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (Raw(b"a.bin", data=b"x" * 100, declared_size=10), "stored size does not fit"),
        (Raw(b"a.bin", local_name=b"b.bin"), "local header names another file"),
    ],
)
def test_a_lying_stored_entry_is_refused(tmp_path: Path, entry: Raw, why: str) -> None:
    zip_path = raw_zip(tmp_path / "b.zip", [Raw(b"ok.txt"), entry])
    with pytest.raises(UnsafeBundle, match=why):
        extract(zip_path, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_placeholders_stand_in_for_selected_entries(tmp_path: Path) -> None:
    weights = random.Random(8).randbytes(2_000_000)
    zip_path = raw_zip(
        tmp_path / "b.zip",
        [Raw(b"model/weights.bin", data=weights), Raw(b"executor.py", data=b"print(1)\n")],
    )
    asked: list[tuple[str, int]] = []

    def big(rel: str, size: int) -> bool:
        asked.append((rel, size))
        return size > 1000

    extract(zip_path, tmp_path / "out", placeholder=big)
    placeholder = tmp_path / "out" / "model" / "weights.bin"
    assert placeholder.stat().st_size == len(weights)
    assert placeholder.stat().st_blocks * 512 < len(weights) // 2  # sparse: nothing written
    assert (tmp_path / "out" / "executor.py").read_bytes() == b"print(1)\n"
    assert asked == [("model/weights.bin", len(weights)), ("executor.py", 9)]
    with pytest.raises(UnsafeBundle, match="unpacks to more than"):
        extract(zip_path, tmp_path / "again", placeholder=big, max_total_bytes=1_000_000)


def test_entries_whose_bytes_overlap_are_refused(tmp_path: Path) -> None:
    """Distinct offsets, but the first entry's data (as the directory declares it) runs over
    the second: a copy of each entry would read the same bytes twice (a small upload made
    large). Also refused for an entry the build would never read (a placeholder)."""
    blob = random.Random(9).randbytes(2_000_000)
    zip_path = raw_zip(
        tmp_path / "b.zip",
        [
            Raw(b"a.bin", data=blob[:10], central_csize=10 + 30 + 5 + len(blob)),
            Raw(b"b.bin", data=blob, declared_size=None),
        ],
    )
    for placeholder in (None, lambda _rel, _size: True):
        with pytest.raises(UnsafeBundle, match="overlaps the next entry"):
            extract(zip_path, tmp_path / f"out{placeholder is None}", placeholder=placeholder)
