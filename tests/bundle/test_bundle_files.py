"""collect_files: links, virtualenvs, special and unreadable files, names, order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hubci.bundle import collect_files
from hubci.errors import ConfigError, HubciError
from hubci.findings import Finding

MakeTree = Callable[[dict[str, str | bytes]], Path]
BASE: dict[str, str | bytes] = {
    ".gitignore": "*.log\nignored-dir/\n",
    "config.yml": "jtype: E\n",
    "executor.py": "x = 1\n",
}


def codes(problems: list[Finding]) -> list[tuple[str, str | None, str]]:
    return [(p.code, p.file, p.category) for p in problems]


def test_link_to_a_file_inside_is_stored_as_its_content(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "models/real.txt": "weights"})
    (folder / "alias.txt").symlink_to("models/real.txt")
    files = collect_files(folder)
    entry = next(e for e in files.entries if e.relpath == "alias.txt")
    assert entry.path == (folder / "models/real.txt").resolve()
    assert entry.size == len("weights")
    assert files.problems == []


def test_link_to_a_folder_inside_is_walked_under_its_name(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "lib/a.py": "", "lib/sub/b.py": ""})
    (folder / "vendor").symlink_to("lib", target_is_directory=True)
    names = [e.relpath for e in collect_files(folder).entries]
    assert names == [
        ".gitignore",
        "config.yml",
        "executor.py",
        "lib/a.py",
        "lib/sub/b.py",
        "vendor/a.py",
        "vendor/sub/b.py",
    ]


def test_link_pointing_outside_is_an_error_and_not_bundled(
    make_tree: MakeTree, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id.txt").write_text("private")
    folder = make_tree(BASE)
    (folder / "leak.txt").symlink_to(outside / "id.txt")
    (folder / "leakdir").symlink_to(outside, target_is_directory=True)
    (folder / "up").symlink_to("../outside/id.txt")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert codes(files.problems) == [
        ("HUB601", "leak.txt", "bundle-safety"),
        ("HUB601", "leakdir", "bundle-safety"),
        ("HUB601", "up", "bundle-safety"),
    ]
    assert all(p.severity.value == "error" and p.hint for p in files.problems)


def test_dangling_link(make_tree: MakeTree) -> None:
    folder = make_tree(BASE)
    (folder / "gone.py").symlink_to("missing.py")
    [problem] = collect_files(folder).problems
    assert (problem.code, problem.file) == ("HUB602", "gone.py")
    assert "missing.py" in problem.message


def test_link_loops(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "a/x.py": ""})
    (folder / "a" / "back").symlink_to("..", target_is_directory=True)  # to an ancestor
    (folder / "self").symlink_to("self")  # ELOOP
    (folder / "p").symlink_to("q")
    (folder / "q").symlink_to("p")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [
        ".gitignore",
        "a/x.py",
        "config.yml",
        "executor.py",
    ]
    assert [(p.code, p.file) for p in files.problems] == [
        ("HUB603", "a/back"),
        ("HUB603", "p"),
        ("HUB603", "q"),
        ("HUB603", "self"),
    ]


def test_link_to_a_linked_folder_that_links_back_is_caught(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "one/f.py": "", "two/g.py": ""})
    (folder / "one" / "to_two").symlink_to("../two", target_is_directory=True)
    (folder / "two" / "to_one").symlink_to("../one", target_is_directory=True)
    files = collect_files(folder)
    names = [e.relpath for e in files.entries]
    assert "one/to_two/g.py" in names
    assert "two/to_one/f.py" in names
    assert ("HUB603", "one/to_two/to_one") in [(p.code, p.file) for p in files.problems]
    assert ("HUB603", "two/to_one/to_two") in [(p.code, p.file) for p in files.problems]


def test_link_to_an_ignored_file_or_folder_is_an_error(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "debug.log": "secret-ish", "ignored-dir/a": ""})
    (folder / "visible.txt").symlink_to("debug.log")
    (folder / "visible-dir").symlink_to("ignored-dir", target_is_directory=True)
    (folder / "git-config").symlink_to(".git/config")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert [(p.code, p.file) for p in files.problems] == [
        ("HUB604", "git-config"),
        ("HUB604", "visible-dir"),
        ("HUB604", "visible.txt"),
    ]


def test_link_into_a_virtualenv_is_an_error(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "env/pyvenv.cfg": "", "env/lib/site.py": "x"})
    (folder / "site.py").symlink_to("env/lib/site.py")
    (folder / "envlib").symlink_to("env/lib", target_is_directory=True)
    (folder / "envroot").symlink_to("env", target_is_directory=True)
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert [(p.code, p.file) for p in files.problems] == [
        ("HUB609", "env"),
        ("HUB604", "envlib"),
        ("HUB604", "envroot"),
        ("HUB604", "site.py"),
    ]


def test_ignored_bad_links_are_silent(make_tree: MakeTree, tmp_path: Path) -> None:
    folder = make_tree(BASE)
    (folder / "x.log").symlink_to(tmp_path)
    (folder / "gone.log").symlink_to("missing")
    files = collect_files(folder)
    assert files.problems == []
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]


def test_folder_given_through_a_link(make_tree: MakeTree, tmp_path: Path) -> None:
    folder = make_tree({**BASE, "sub/a.py": ""})
    (folder / "inner").symlink_to("sub", target_is_directory=True)
    alias = tmp_path / "alias"
    alias.symlink_to(folder, target_is_directory=True)
    files = collect_files(alias)
    assert files.root == folder.resolve()
    assert files.problems == []
    assert "inner/a.py" in [e.relpath for e in files.entries]


def test_virtualenvs_are_never_entered(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            "myenv/pyvenv.cfg": "home = /usr/bin\n",
            "myenv/lib/site.py": "",
            "conda/conda-meta/history": "",
            "conda/bin/python": "",
        }
    )
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert files.skipped_virtualenvs == ["conda", "myenv"]
    assert [(p.code, p.file, p.severity.value) for p in files.problems] == [
        ("HUB609", "conda", "info"),
        ("HUB609", "myenv", "info"),
    ]


def test_special_files_are_left_out_with_a_warning(make_tree: MakeTree) -> None:
    folder = make_tree(BASE)
    os.mkfifo(folder / "pipe")
    files = collect_files(folder)  # must not block on the FIFO
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert [(p.code, p.file, p.severity.value) for p in files.problems] == [
        ("HUB606", "pipe", "warning")
    ]


def collect_unprivileged(folder: Path) -> tuple[list[str], list[tuple[str, str | None]]]:
    """collect_files as a process that file modes apply to (root: without DAC capabilities)."""
    if os.geteuid() != 0:
        files = collect_files(folder)
        return [e.relpath for e in files.entries], [(p.code, p.file) for p in files.problems]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot be enforced")
    script = (
        "import json, sys; from pathlib import Path; from hubci.bundle import collect_files; "
        "f = collect_files(Path(sys.argv[1])); "
        "print(json.dumps([[e.relpath for e in f.entries], "
        "[[p.code, p.file] for p in f.problems]]))"
    )
    drop = "-dac_override,-dac_read_search"
    proc = subprocess.run(
        [setpriv, "--bounding-set", drop, sys.executable, "-c", script, str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    names, problems = json.loads(proc.stdout)
    return names, [(code, file) for code, file in problems]


def test_unreadable_files_and_folders_are_findings(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "locked.txt": "x", "closed/inner.txt": "y", "pkg/ok.py": ""})
    (folder / "locked.txt").chmod(0)
    (folder / "closed").chmod(0)
    (folder / "alias.txt").symlink_to("locked.txt")
    try:
        names, problems = collect_unprivileged(folder)
    finally:
        (folder / "closed").chmod(0o755)
    assert names == [".gitignore", "config.yml", "executor.py", "pkg/ok.py"]
    assert problems == [
        ("HUB605", "alias.txt"),
        ("HUB605", "closed"),
        ("HUB605", "locked.txt"),
    ]


def test_names_zip_cannot_carry_safely(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "a\\b.py": "", "new\nline.py": "", "tab\t/x.py": ""})
    (folder / os.fsdecode(b"bad\xff.txt")).write_text("x")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert [(p.code, p.file) for p in files.problems] == [
        ("HUB607", "a\\b.py"),
        ("HUB607", "bad\\udcff.txt"),
        ("HUB607", "new\\nline.py"),
        ("HUB607", "tab\\t"),
    ]
    assert all(p.file is not None and p.file.isprintable() for p in files.problems)


def test_ignored_files_with_odd_names_are_fine(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "odd\nname.log": "", "ignored-dir/a\\b": ""})
    (folder / os.fsdecode(b"bad\xff.log")).write_text("x")
    (folder / "tab\t.log").symlink_to("nowhere")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    assert files.problems == []


def test_odd_names_of_links_and_folders(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "real.py": "", "dir\\x/f.py": ""})
    (folder / "link\\x.py").symlink_to("real.py")
    (folder / "gone\\x").symlink_to("nowhere")
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [
        ".gitignore",
        "config.yml",
        "executor.py",
        "real.py",
    ]
    assert [(p.code, p.file) for p in files.problems] == [
        ("HUB607", "dir\\x"),
        ("HUB607", "gone\\x"),
        ("HUB607", "link\\x.py"),
    ]


def test_unreadable_gitignore_is_a_finding(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "a.log": ""})
    (folder / ".gitignore").chmod(0)
    names, problems = collect_unprivileged(folder)
    assert problems == [("HUB605", ".gitignore")]
    assert names == ["a.log", "config.yml", "executor.py"]


def test_entries_are_sorted_and_carry_metadata(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "z.py": "zz", "a/b.py": "b", "A.py": "", "a-b.py": ""})
    (folder / "z.py").chmod(0o755)
    os.utime(folder / "a/b.py", (1_600_000_000, 1_600_000_000))
    files = collect_files(folder)
    names = [e.relpath for e in files.entries]
    assert names == sorted(names)
    z = next(e for e in files.entries if e.relpath == "z.py")
    assert (z.size, z.mode & 0o777) == (2, 0o755)
    b = next(e for e in files.entries if e.relpath == "a/b.py")
    assert b.mtime == 1_600_000_000
    assert files.content_bytes == sum(e.size for e in files.entries)


def test_not_a_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not a folder") as info:
        collect_files(tmp_path / "missing")
    assert isinstance(info.value, HubciError)
    assert "\n" not in info.value.format_message()
