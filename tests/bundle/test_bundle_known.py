"""Bundles this machine has made: an unchanged folder is recognised by its files' stamps."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from hubci.bundle import collect_files
from hubci.bundle import known as known_mod
from hubci.bundle.known import KnownBundle, fingerprint, recall, remember

LATER = time.time_ns() + 3_600 * 10**9  # a walk an hour from now: no file is racy


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ex"
    (root / "sub").mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\n")
    (root / "a.py").write_text("print(1)\n")
    (root / "sub" / "b.bin").write_bytes(b"\x00" * 100)
    return root


def key(root: Path, walked: int = LATER) -> str | None:
    return fingerprint(collect_files(root), walked)


def test_the_same_files_give_the_same_key_and_any_change_another(tmp_path: Path) -> None:
    root = folder(tmp_path)
    first = key(root)
    assert first is not None
    assert key(root) == first
    (root / "ignored.log").write_text("not bundled\n")
    assert key(root) == first  # not a file of the bundle
    a = root / "a.py"
    stat = a.stat()
    a.write_text("print(2)\n")  # same size; mtime put back: the change time still moves
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = key(root)
    assert changed not in (None, first)
    a.chmod(0o755)
    assert key(root) not in (None, changed)
    (root / "c.txt").write_text("new\n")
    assert len({first, changed, key(root)}) == 3


def test_a_file_changed_just_before_the_walk_is_never_remembered(tmp_path: Path) -> None:
    root = folder(tmp_path)
    assert key(root, walked=time.time_ns()) is None  # racily clean: could change unseen
    assert key(root, walked=time.time_ns() + int(known_mod.RACY_SECONDS * 1e9) + 10**9)


def test_remember_and_recall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = KnownBundle("0123456789abcdef0123456789abcdef", 1234, 3)
    assert recall("k1") is None
    remember("k1", bundle)
    assert recall("k1") == bundle
    assert recall(None) is None
    remember(None, bundle)  # nothing to remember
    monkeypatch.setattr(known_mod, "MAX_BUNDLES", 3)
    for n in range(5):
        remember(f"n{n}", bundle)
    path = Path(os.environ["XDG_CACHE_HOME"]) / "hubci" / "bundles.json"
    assert list(json.loads(path.read_text())) == ["n2", "n3", "n4"]
    path.write_text(json.dumps({"n4": {"md5": "x" * 32, "size": 1, "files": 1}}))
    assert recall("n4") is None  # not an MD5: ignored
    path.write_text("{broken")
    assert recall("n4") is None
    remember("k2", bundle)
    assert recall("k2") == bundle
