"""Against the unmodified official client: its packer picks the same files, and the local Hub's
safe_extract accepts its zips."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from hubci.bundle import collect_files, safe_extract, write_bundle
from testing.hubble import hubble_python

pytestmark = pytest.mark.slow

PACK = """
import sys
from pathlib import Path
from hubble.executor.helper import archive_package
Path(sys.argv[2]).write_bytes(archive_package(Path(sys.argv[1])).getvalue())
"""

#: A .gitignore using the usual constructs, avoiding the cases where the official packer is not
#: git (it re-includes below an ignored folder, and tests folders without their trailing `/`).
GITIGNORE = """\
# build output and caches
*.log
__pycache__
*.py[cod]
/notes.txt
data/*
!data/keep.txt
models/**/*.tmp
"""

TREE: dict[str, str] = {
    ".gitignore": GITIGNORE,
    "config.yml": "jtype: E\npy_modules:\n  - executor.py\n",
    "executor.py": "from jina import Executor\n\n\nclass E(Executor):\n    pass\n",
    "requirements.txt": "numpy\n",
    "Dockerfile": "FROM jinaai/jina:3-py38-perf\n",
    "run.log": "ignored",
    "sub/run.log": "ignored",
    "__pycache__/executor.cpython-311.pyc": "ignored",
    "pkg/mod.pyc": "ignored",
    "pkg/mod.py": "x = 1\n",
    "notes.txt": "ignored at the root only",
    "pkg/notes.txt": "kept",
    "data/blob.bin": "ignored",
    "data/keep.txt": "kept",
    "models/a/b/w.tmp": "ignored",
    "models/a/b/w.onnx": "kept",
    ".jina/secret.json": "{}",
    ".git/HEAD": "ref: refs/heads/main\n",
    "ünï/名前.txt": "utf-8 names",
}


def official_zip(folder: Path, dest: Path) -> Path:
    subprocess.run(
        [str(hubble_python()), "-c", PACK, str(folder), str(dest)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return dest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ex"
    for rel, text in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_same_files_as_the_official_packer(folder: Path, tmp_path: Path) -> None:
    sdk = official_zip(folder, tmp_path / "sdk.zip")
    with zipfile.ZipFile(sdk) as zf:
        official = sorted(zf.namelist())
        official_content = {name: zf.read(name) for name in official}
    ours = write_bundle(collect_files(folder), tmp_path / "ours.zip")
    with zipfile.ZipFile(ours.path) as zf:
        assert sorted(zf.namelist()) == official
        assert {name: zf.read(name) for name in official} == official_content
    assert "data/keep.txt" in official
    assert "pkg/notes.txt" in official


def test_safe_extract_accepts_the_official_clients_zip(folder: Path, tmp_path: Path) -> None:
    sdk = official_zip(folder, tmp_path / "sdk.zip")
    dest = tmp_path / "out"
    names = safe_extract(sdk, dest, max_total_bytes=10**8, max_entries=1000, max_ratio=200.0)
    assert sorted(names) == sorted(e.relpath for e in collect_files(folder).entries)
    for name in names:
        assert (dest / name).read_bytes() == (folder / name).read_bytes()
