"""write_bundle: a deterministic, streamed, readable zip; compression policy; ZIP64; errors."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from hubci.bundle import Bundle, BundleError, collect_files, compression_for, write_bundle

MakeTree = Callable[[dict[str, str | bytes]], Path]


def random_bytes(n: int, *, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


TREE: dict[str, str | bytes] = {
    ".gitignore": "*.log\n",
    "config.yml": "jtype: E\npy_modules:\n  - executor.py\n",
    "executor.py": "from jina import Executor\n\nclass E(Executor):\n    pass\n" * 20,
    "requirements.txt": "numpy\n",
    "data/weights.bin": random_bytes(70_000, seed=1),
    "data/sub/table.csv": "a,b,c\n1,2,3\n" * 500,
    "ünïcode/名前.txt": "utf-8 names\n",
    "empty.txt": "",
}


def bundle(folder: Path, dest: Path, **kwargs: object) -> Bundle:
    return write_bundle(collect_files(folder), dest, **kwargs)  # type: ignore[arg-type]


def build(root: Path, files: dict[str, str | bytes], order: list[str] | None = None) -> Path:
    root.mkdir(parents=True)
    for rel in order or list(files):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        content = files[rel]
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_bundle_is_a_readable_zip_with_the_selected_files(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", {**TREE, "debug.log": "ignored"})
    result = bundle(folder, tmp_path / "b.zip")
    data = result.path.read_bytes()
    assert result.size == len(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.files == 8
    assert result.content_bytes == sum(
        len(v.encode() if isinstance(v, str) else v) for v in TREE.values()
    )
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == sorted(TREE)
        for name, content in TREE.items():
            expected = content.encode() if isinstance(content, str) else content
            assert zf.read(name) == expected


def test_local_headers_are_complete_so_streaming_readers_work(tmp_path: Path) -> None:
    """Walk the zip front to back using only local headers, as a streaming unzipper does."""
    folder = build(tmp_path / "ex", TREE)
    raw = bundle(folder, tmp_path / "b.zip").path.read_bytes()
    pos = 0
    seen: list[str] = []
    while raw[pos : pos + 4] == b"PK\x03\x04":
        flags, method, _, _, crc, csize, size, nlen, xlen = struct.unpack(
            "<HHHHIIIHH", raw[pos + 6 : pos + 30]
        )
        assert flags & 0x08 == 0  # no data descriptor
        name = raw[pos + 30 : pos + 30 + nlen].decode()
        data = raw[pos + 30 + nlen + xlen : pos + 30 + nlen + xlen + csize]
        if method == zipfile.ZIP_DEFLATED:
            data = zlib.decompress(data, -15)
        assert len(data) == size
        assert zlib.crc32(data) == crc
        seen.append(name)
        pos += 30 + nlen + xlen + csize
    assert raw[pos : pos + 4] == b"PK\x01\x02"  # straight into the central directory
    assert seen == sorted(TREE)


def test_entries_have_fixed_metadata(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", {**TREE, "run.sh": "#!/bin/sh\n"})
    (folder / "run.sh").chmod(0o700)
    (folder / "config.yml").chmod(0o600)
    with zipfile.ZipFile(bundle(folder, tmp_path / "b.zip").path) as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.create_system == 3
            assert info.extra == b""
            assert info.comment == b""
            assert not info.is_dir()
            expected = 0o100755 if info.filename == "run.sh" else 0o100644
            assert info.external_attr >> 16 == expected, info.filename


def test_same_content_same_md5_whatever_mtimes_umask_and_creation_order(tmp_path: Path) -> None:
    with umask(0o022):
        first = build(tmp_path / "one", TREE)
    with umask(0o077):
        second = build(tmp_path / "two", TREE, order=sorted(TREE, reverse=True))
    for i, path in enumerate(p for p in second.rglob("*") if p.is_file()):
        os.utime(path, (1_000_000_000 + i * 977, 1_000_000_000 + i * 977))
    a = bundle(first, tmp_path / "a.zip")
    b = bundle(second, tmp_path / "b.zip")
    assert a.md5 == b.md5
    assert a.path.read_bytes() == b.path.read_bytes()
    os.utime(first / "executor.py")  # touching a file changes nothing
    assert bundle(first, tmp_path / "c.zip").md5 == a.md5


def test_links_bundle_like_copies(tmp_path: Path) -> None:
    copies = build(tmp_path / "copies", {**TREE, "alias.py": TREE["executor.py"]})
    linked = build(tmp_path / "linked", TREE)
    (linked / "alias.py").symlink_to("executor.py")
    assert bundle(copies, tmp_path / "a.zip").md5 == bundle(linked, tmp_path / "b.zip").md5


def test_content_changes_change_the_md5(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", TREE)
    before = bundle(folder, tmp_path / "a.zip").md5
    (folder / "requirements.txt").write_text("numpy\nscipy\n")
    assert bundle(folder, tmp_path / "b.zip").md5 != before
    (folder / "requirements.txt").write_text("numpy\n")
    (folder / "requirements.txt").chmod(0o755)
    assert bundle(folder, tmp_path / "c.zip").md5 != before


def test_compression_policy(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "text.py": "def f():\n    return 1\n" * 400,
        "random.dat": random_bytes(200_000, seed=2),
        "zeros.bin": b"\0" * 100_000,  # compresses well, but model weights are STORED by name
        "picture.PNG": "not really a png " * 100,
        "archive.tar.gz": random_bytes(1000, seed=3),
        "empty.txt": "",
        "tiny.txt": "hi",
    }
    folder = build(tmp_path / "ex", files)
    with zipfile.ZipFile(bundle(folder, tmp_path / "b.zip").path) as zf:
        methods = {info.filename: info.compress_type for info in zf.infolist()}
    assert methods == {
        "archive.tar.gz": zipfile.ZIP_STORED,
        "empty.txt": zipfile.ZIP_STORED,
        "picture.PNG": zipfile.ZIP_STORED,
        "random.dat": zipfile.ZIP_STORED,
        "text.py": zipfile.ZIP_DEFLATED,
        "tiny.txt": zipfile.ZIP_STORED,  # DEFLATE would make two bytes bigger
        "zeros.bin": zipfile.ZIP_STORED,
    }


@pytest.mark.parametrize(
    ("name", "sample", "method"),
    [
        ("a.txt", b"abc" * 1000, zipfile.ZIP_DEFLATED),
        ("a.safetensors", b"abc" * 1000, zipfile.ZIP_STORED),
        ("model.ONNX", b"abc" * 1000, zipfile.ZIP_STORED),
        ("noext", random_bytes(70_000, seed=4), zipfile.ZIP_STORED),
        # half random, half text: DEFLATE still saves more than 10 %
        ("mixed", random_bytes(20_000, seed=5) + b"x" * 20_000, zipfile.ZIP_DEFLATED),
        ("none", b"", zipfile.ZIP_STORED),
    ],
)
def test_compression_for(name: str, sample: bytes, method: int) -> None:
    assert compression_for(name, sample) == method


def test_forced_zip64_round_trip(tmp_path: Path) -> None:
    payload = random_bytes(3 * 1024 * 1024 + 17, seed=6)
    folder = build(tmp_path / "ex", {"big.dat": payload, "small.py": "x = 1\n" * 100})
    result = bundle(folder, tmp_path / "b.zip", force_zip64=True)
    raw = result.path.read_bytes()
    # the first local header carries the ZIP64 extra field (id 0x0001)
    name_len, extra_len = struct.unpack("<HH", raw[26:30])
    extra = raw[30 + name_len : 30 + name_len + extra_len]
    assert struct.unpack("<H", extra[:2]) == (0x0001,)
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        assert zf.read("big.dat") == payload
        assert zf.read("small.py") == b"x = 1\n" * 100
    if shutil.which("unzip"):
        test = subprocess.run(
            ["unzip", "-tq", str(result.path)], capture_output=True, text=True, check=False
        )
        assert test.returncode == 0, test.stdout + test.stderr


def test_info_zip_accepts_the_bundle(tmp_path: Path) -> None:
    if not shutil.which("unzip"):
        pytest.skip("Info-ZIP unzip is not installed")
    folder = build(tmp_path / "ex", TREE)
    result = bundle(folder, tmp_path / "b.zip")
    test = subprocess.run(
        ["unzip", "-tq", str(result.path)], capture_output=True, text=True, check=False
    )
    assert test.returncode == 0, test.stdout + test.stderr


def test_progress_reports_bytes_done_and_total(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", {"a.bin": random_bytes(2_500_000, seed=7), "b.txt": "b" * 10})
    calls: list[tuple[int, int]] = []
    result = bundle(
        folder, tmp_path / "b.zip", progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (result.content_bytes, result.content_bytes) == (2_500_010, 2_500_010)
    dones = [done for done, _ in calls]
    assert dones == sorted(dones)
    assert len(calls) >= 3  # the big file is streamed in chunks


def test_empty_fileset(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    calls: list[tuple[int, int]] = []
    result = bundle(folder, tmp_path / "b.zip", progress=lambda d, t: calls.append((d, t)))
    assert (result.files, result.content_bytes, calls) == (0, 0, [(0, 0)])
    with zipfile.ZipFile(result.path) as zf:
        assert zf.namelist() == []


def test_vanished_file_is_a_one_line_error_and_leaves_nothing(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", TREE)
    files = collect_files(folder)
    (folder / "requirements.txt").unlink()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(
        BundleError, match=r"^cannot read requirements.txt while bundling: "
    ) as info:
        write_bundle(files, out / "b.zip")
    assert "\n" not in info.value.format_message()
    assert list(out.iterdir()) == []


def test_file_changed_after_selection_is_an_error(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", TREE)
    files = collect_files(folder)
    (folder / "requirements.txt").write_text("numpy\nscipy\n")
    with pytest.raises(
        BundleError, match=r"^requirements.txt changed while bundling \(6 bytes, then 12\)"
    ):
        write_bundle(files, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_entry_claiming_zip64_size_but_short_is_an_error(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", {"a.txt": "short"})
    files = collect_files(folder)
    files.entries[0] = replace(files.entries[0], size=5 * 1024**3)
    with pytest.raises(BundleError, match=r"changed while bundling"):
        write_bundle(files, tmp_path / "b.zip")


def test_existing_destination_is_replaced_atomically(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", TREE)
    dest = tmp_path / "b.zip"
    dest.write_bytes(b"old")
    result = bundle(folder, dest)
    assert zipfile.is_zipfile(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip", "ex"]
    assert result.path == dest


def test_unwritable_destination_is_a_one_line_error(tmp_path: Path) -> None:
    folder = build(tmp_path / "ex", TREE)
    with pytest.raises(BundleError, match=r"^cannot write the bundle to .*missing/b.zip: "):
        bundle(folder, tmp_path / "missing" / "b.zip")
