"""Which files collect_files selects: .gitignore, .dockerignore, the default list, always-out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hubci.bundle import DEFAULT_IGNORE, collect_files
from hubci.bundle.ignore import load_rules

MakeTree = Callable[[dict[str, str | bytes]], Path]


def selected(folder: Path) -> list[str]:
    return [entry.relpath for entry in collect_files(folder).entries]


BASE: dict[str, str | bytes] = {"config.yml": "jtype: E\n", "executor.py": "x = 1\n"}


def test_gitignore_patterns_and_negation(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "# comment\n*.log\n!keep.log\n/root-only.txt\nsub/*.tmp\n",
            "a.log": "",
            "keep.log": "",
            "deep/b.log": "",
            "deep/keep.log": "",
            "root-only.txt": "",
            "deep/root-only.txt": "",
            "sub/x.tmp": "",
            "sub/deeper/x.tmp": "",
        }
    )
    assert selected(folder) == [
        ".gitignore",
        "config.yml",
        "deep/keep.log",
        "deep/root-only.txt",
        "executor.py",
        "keep.log",
        "sub/deeper/x.tmp",
    ]


def test_gitignore_cannot_reinclude_below_an_ignored_folder(make_tree: MakeTree) -> None:
    # git: "It is not possible to re-include a file if a parent directory of that file is
    # excluded"; `data/*` ignores the children, not the folder, so `!data/keep` works.
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "build/\n!build/keep.py\ndata/*\n!data/keep/\n",
            "build/keep.py": "",
            "build/other.py": "",
            "data/drop.bin": "",
            "data/keep/model.txt": "",
        }
    )
    assert selected(folder) == [".gitignore", "config.yml", "data/keep/model.txt", "executor.py"]


def test_whitelist_idiom(make_tree: MakeTree) -> None:
    # ignore everything, then re-include Python files and every folder (git's documented idiom)
    folder = make_tree(
        {**BASE, ".gitignore": "*\n!*.py\n!*/\n!.gitignore\n", "pkg/sub/m.py": "", "pkg/d.bin": ""}
    )
    assert selected(folder) == [".gitignore", "executor.py", "pkg/sub/m.py"]


def test_dir_only_pattern_does_not_match_a_file(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, ".gitignore": "models/\n", "models": "a file", "x/models/m": ""})
    assert selected(folder) == [".gitignore", "config.yml", "executor.py", "models"]


def test_dockerignore_is_anchored_and_reincludes_below_excluded_folders(
    make_tree: MakeTree,
) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "",
            ".dockerignore": "# docker rules\n*.md\n/tests\nassets/\n!assets/keep.txt\n  \n",
            "README.md": "",
            "docs/guide.md": "",  # `*.md` is anchored at the root in .dockerignore
            "tests/test_x.py": "",
            "assets/big.bin": "",
            "assets/keep.txt": "",
            "assets/nested/deep.txt": "",
        }
    )
    assert selected(folder) == [
        ".dockerignore",
        ".gitignore",
        "assets/keep.txt",
        "config.yml",
        "docs/guide.md",
        "executor.py",
    ]


def test_dockerignore_double_star_and_wildcard_negation(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "",
            ".dockerignore": "**/*.pyc\ndata\n!data/**/*.json\n",
            "a.pyc": "",
            "pkg/b.pyc": "",
            "data/x/y/conf.json": "",
            "data/x/y/weights.bin": "",
        }
    )
    assert selected(folder) == [
        ".dockerignore",
        ".gitignore",
        "config.yml",
        "data/x/y/conf.json",
        "executor.py",
    ]


def test_dockerignore_never_excludes_the_dockerfile_or_itself(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "",
            ".dockerignore": "Dockerfile\n.dockerignore\n*\n!config.yml\n!executor.py\n",
            "Dockerfile": "FROM scratch\n",
            "sub/Dockerfile": "FROM scratch\n",
            "README.md": "",
        }
    )
    assert selected(folder) == [".dockerignore", "Dockerfile", "config.yml", "executor.py"]


def test_gitignore_can_exclude_the_dockerfile(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, ".gitignore": "Dockerfile\n", "Dockerfile": "FROM scratch\n"})
    assert selected(folder) == [".gitignore", "config.yml", "executor.py"]


def test_gitignore_and_dockerignore_both_apply(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "*.log\n",
            ".dockerignore": "notes.txt\n",
            "run.log": "",
            "notes.txt": "",
            "kept.txt": "",
        }
    )
    assert selected(folder) == [
        ".dockerignore",
        ".gitignore",
        "config.yml",
        "executor.py",
        "kept.txt",
    ]


def test_git_and_jina_are_always_excluded(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            ".gitignore": "!.git\n!.jina\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".jina/secret.json": "{}",
            "sub/.git": "gitdir: ../.git/modules/sub\n",
        }
    )
    assert selected(folder) == [".gitignore", "config.yml", "executor.py"]


def test_default_ignore_applies_without_gitignore(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            "__pycache__/executor.cpython-311.pyc": b"\x00",
            "pkg/mod.pyc": b"\x00",
            ".pytest_cache/v": "",
            ".mypy_cache/x": "",
            ".idea/workspace.xml": "",
            ".vscode/settings.json": "",
            "build/lib/x.py": "",
            "dist/x.whl": "",
            "my.egg-info/PKG-INFO": "",
            ".DS_Store": "",
            "server.log": "",
            ".github/workflows/ci.yml": "",
            ".venv/bin/python": "",
            ".env": "TOKEN=1\n",
            ".env.local": "TOKEN=1\n",
            ".env.example": "TOKEN=\n",
            "src/helper.py": "",
        }
    )
    assert collect_files(folder).ignore_source == "built-in default"
    assert selected(folder) == [".env.example", "config.yml", "executor.py", "src/helper.py"]


def test_default_list_is_replaced_by_a_gitignore(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, ".gitignore": "*.txt\n", "__pycache__/a.pyc": b"\x00"})
    files = collect_files(folder)
    assert files.ignore_source == ".gitignore"
    assert "__pycache__/a.pyc" in [e.relpath for e in files.entries]


def test_default_list_documents_the_promised_entries() -> None:
    for pattern in ("__pycache__/", "*.py[cod]", ".venv/", "build/", "dist/", "*.egg-info/"):
        assert pattern in DEFAULT_IGNORE


def test_nested_gitignore_files_are_not_consulted(make_tree: MakeTree) -> None:
    # the Hub's packer reads the top-level .gitignore only; so does hubci
    folder = make_tree({**BASE, ".gitignore": "", "sub/.gitignore": "*\n", "sub/x.py": ""})
    assert selected(folder) == [
        ".gitignore",
        "config.yml",
        "executor.py",
        "sub/.gitignore",
        "sub/x.py",
    ]


def test_invalid_pattern_is_a_warning_not_a_crash(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, ".gitignore": "*.log\n!\n", "a.log": ""})
    files = collect_files(folder)
    assert [e.relpath for e in files.entries] == [".gitignore", "config.yml", "executor.py"]
    [problem] = files.problems
    assert (problem.code, problem.severity.value, problem.file, problem.line) == (
        "HUB608",
        "warning",
        ".gitignore",
        2,
    )


def test_gitignore_with_bom_and_crlf(make_tree: MakeTree) -> None:
    folder = make_tree(
        {**BASE, ".gitignore": b"\xef\xbb\xbf*.log\r\nsecret/\r\n", "a.log": "", "secret/k": ""}
    )
    assert selected(folder) == [".gitignore", "config.yml", "executor.py"]


@pytest.mark.parametrize(
    ("dockerignore", "rel", "expected"),
    [
        ("data\n!data/keep\n", "data", False),  # negation reaches below: entered
        ("data\n!other/keep\n", "data", True),  # no negation below: pruned
        ("data\n!*/keep\n", "data", False),
        ("data\n!**/keep\n", "data", False),
        ("data\n!data\n", "data", False),  # re-included outright
        ("a/b\n!a/c/x\n", "a/b", True),
    ],
)
def test_dockerignore_prunes_only_when_no_negation_reaches_below(
    tmp_path: Path, dockerignore: str, rel: str, expected: bool
) -> None:
    (tmp_path / ".dockerignore").write_text(dockerignore)
    (tmp_path / ".gitignore").write_text("")
    rules = load_rules(tmp_path)
    assert rules.prunes_dir(rel) is expected
