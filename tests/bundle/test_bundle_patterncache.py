"""The cache of pathspec's .gitignore translations: same answers, bounded, never trusted blindly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from hubci.bundle import patterncache

LINES = ["# comment", "", "*.py[cod]", "!keep.pyc", "/build/", "a/**/b", "\\#x", "**/", "***"]


def cache_files() -> list[Path]:
    return sorted((Path(os.environ["XDG_CACHE_HOME"]) / "hubci").glob("gitignore-*.json"))


def direct(line: str) -> patterncache.Translation:
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    except ValueError as exc:
        return str(exc)
    return None if regex is None or include is None else (regex, include)


def test_same_translations_from_pathspec_and_from_the_cache() -> None:
    first = patterncache.translate(LINES)
    assert first == [direct(line) for line in LINES]
    (path,) = cache_files()
    assert path.name == f"gitignore-pathspec-{__import__('pathspec').__version__}.json"
    assert patterncache.translate(LINES) == first
    assert set(json.loads(path.read_text())) == set(LINES)


def test_a_warm_cache_spares_the_pathspec_import(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    (folder / ".gitignore").write_text("*.py[cod]\n!keep.pyc\n")
    (folder / "keep.pyc").write_text("x")
    (folder / "drop.pyc").write_text("x")
    script = (
        "import sys; from pathlib import Path; from hubci.bundle import collect_files\n"
        f"names = [e.relpath for e in collect_files(Path({str(folder)!r})).entries]\n"
        "print(names, 'pathspec' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout.split("]")[0] == runs[1].stdout.split("]")[0]
    assert "'keep.pyc'" in runs[1].stdout
    assert "'drop.pyc'" not in runs[1].stdout
    assert runs[0].stdout.strip().endswith("True")  # cold: pathspec translated
    assert runs[1].stdout.strip().endswith("False")  # warm: from the cache alone


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"*.log": [1, 2]}',
        b'{"*.log": ["^x$", "yes"]}',
        b'{"*.log": {"a": 1}}',
        b"\xff\xfe",
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored_and_rewritten(content: bytes) -> None:
    patterncache.translate(["x"])
    (path,) = cache_files()
    path.write_bytes(content)
    assert patterncache.translate(["*.log"]) == [direct("*.log")]
    assert json.loads(path.read_text()) == {"*.log": list(direct("*.log") or ())}


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterncache, "MAX_LINES", 10)
    patterncache.translate([f"file{n}" for n in range(8)])
    patterncache.translate([f"other{n}" for n in range(5)])  # 13 > 10: starts again
    (path,) = cache_files()
    assert sorted(json.loads(path.read_text())) == sorted(f"other{n}" for n in range(5))
    long_line = "x" * (patterncache.MAX_LINE_LENGTH + 1)
    assert patterncache.translate([long_line]) == [direct(long_line)]
    assert long_line not in json.loads(path.read_text())


def test_an_unwritable_cache_only_costs_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert patterncache.translate(LINES) == [direct(line) for line in LINES]
    assert blocker.read_text() == "x"
    assert list(tmp_path.iterdir()) == [blocker]


def test_the_cache_is_private() -> None:
    patterncache.translate(["*.tmp"])
    (path,) = cache_files()
    assert path.parent.stat().st_mode & 0o077 == 0
    assert not list(path.parent.glob("*.tmp"))  # no temp file left behind
