"""A file the Hub reads (config.yml, manifest.yml, requirements.txt, the Dockerfile) that is a
folder, a pipe or a socket is an error naming what it is, for validate and push alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubci.validate import validate_folder

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hello-executor"


def _special(folder: Path, name: str, kind: str) -> None:
    path = folder / name
    if path.exists():
        path.unlink()
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)


@pytest.mark.parametrize(
    ("name", "kind", "word"),
    [
        ("config.yml", "folder", "a folder"),
        ("requirements.txt", "pipe", "a pipe"),
        ("manifest.yml", "folder", "a folder"),
        ("Dockerfile", "pipe", "a pipe"),
    ],
)
def test_validate_and_push_agree(tmp_path: Path, name: str, kind: str, word: str) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(EXAMPLE, folder)
    _special(folder, name, kind)
    report = validate_folder(folder)
    errors = [f for f in report.findings if f.code == "HUB120"]
    assert [(f.file, f.message) for f in errors] == [(name, f"{name} is {word}, not a file")]
    assert not report.ok()
    assert not any(f.code in ("HUB102", "HUB606") and f.file == name for f in report.findings)
    push = subprocess.run(
        [sys.executable, "-m", "hubci", "push", str(folder), "--hub", "local", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert push.returncode == 2, push.stderr
    assert "HUB120" in push.stderr


def test_a_display_name_in_manifest_next_to_metas_name_is_what_published_executors_have(
    tmp_path: Path,
) -> None:
    """The official client sends metas.name and reads manifest.yml's name only without one (it
    never reads ``alias``): a display name there is refused only when a push would send it."""
    folder = tmp_path / "hello"
    shutil.copytree(EXAMPLE, folder)
    (folder / "manifest.yml").write_text(
        "manifest_version: 1\nname: Simple Indexer\nalias: SimpleIndexer\n"
    )
    base = "jtype: HelloExecutor\nmetas:\n  py_modules:\n    - executor/__init__.py\n"
    named = base.replace("metas:\n", "metas:\n  name: SimpleIndexer\n")
    (folder / "config.yml").write_text(named)
    report = validate_folder(folder)
    assert report.ok(), report.findings
    assert report.name == "SimpleIndexer"
    assert not any(f.code == "HUB112" for f in report.findings)
    (folder / "config.yml").write_text(base)  # no metas.name: a push would send the display name
    report = validate_folder(folder)
    assert [f.code for f in report.findings if f.code == "HUB112"] == ["HUB112"]
    assert report.name == "Simple Indexer"
