"""overlay_bundle: a bundle with some files replaced or added, the rest copied byte for byte."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

from hubci.bundle import collect_files, write_bundle
from hubci.bundle.overlay import overlay_bundle


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every CRC holds
        found = {info.filename: archive.read(info) for info in archive.infolist()}
    unzip = shutil.which("unzip")
    if unzip is not None:  # Info-ZIP also checks that local and central headers agree
        tested = subprocess.run([unzip, "-tq", str(path)], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stdout + tested.stderr
    return found


def test_a_hubci_bundle_with_files_replaced_and_added(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "model.bin").write_bytes(random.Random(1).randbytes(300_000))  # STORED
    (folder / "executor.py").write_text("print('hi')\n" * 100)  # DEFLATED
    (folder / "requirements.txt").write_text("numpy\n")
    bundle = write_bundle(collect_files(folder), tmp_path / "b.zip")
    files = {"requirements.txt": b"numpy\ntorch\n", "config.yml": b"jtype: X\n"}
    written = overlay_bundle(bundle.path, tmp_path / "n.zip", files)
    got = entries(written.path)
    assert got == {
        "config.yml": b"jtype: X\n",
        "executor.py": (folder / "executor.py").read_bytes(),
        "requirements.txt": b"numpy\ntorch\n",
        "weights/model.bin": (folder / "weights" / "model.bin").read_bytes(),
    }
    assert written.md5 == hashlib.md5(written.path.read_bytes()).hexdigest()
    assert written.size == written.path.stat().st_size
    again = overlay_bundle(bundle.path, tmp_path / "n2.zip", files)
    assert again.md5 == written.md5  # deterministic
    assert not list(tmp_path.glob(".*.part"))


def test_an_official_style_zip_with_folder_entries(tmp_path: Path) -> None:
    source = tmp_path / "o.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("executor/", b"")
        archive.writestr("executor/__init__.py", b"from .e import E\n")
        archive.writestr("Dockerfile", b"FROM x\n")
    written = overlay_bundle(source, tmp_path / "n.zip", {"config.yml": b"jtype: E\n"})
    assert entries(written.path) == {
        "Dockerfile": b"FROM x\n",
        "config.yml": b"jtype: E\n",
        "executor/": b"",
        "executor/__init__.py": b"from .e import E\n",
    }


def test_data_descriptors_are_rewritten_not_copied(tmp_path: Path) -> None:
    """A zip written to a stream (data descriptors after each entry) takes the slow path."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            view = memoryview(b)  # type: ignore[arg-type]
            self.data += view
            return len(view)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"alpha\n" * 50)
        archive.writestr("b.txt", b"beta\n")
    source = tmp_path / "s.zip"
    source.write_bytes(bytes(sink.data))
    written = overlay_bundle(source, tmp_path / "n.zip", {"b.txt": b"BETA\n"})
    assert entries(written.path) == {"a.txt": b"alpha\n" * 50, "b.txt": b"BETA\n"}
    assert written.md5 == hashlib.md5(written.path.read_bytes()).hexdigest()
