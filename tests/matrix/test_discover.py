"""Discovery: which folders are executors, in git work trees and outside them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hubci.executor.discover import discover
from tests.matrix.gitrepo import Repo, executor_files


def _paths(root: Path) -> list[str]:
    return [e.rel for e in discover(root).executors]


def test_config_and_config_less_executors_sorted(repo: Repo) -> None:
    repo.executor("b-exec", "Beta", name="beta")
    repo.executor("a/exec", "Alpha")
    repo.executor("a-c", "Gamma", config=False)
    repo.commit()
    found = discover(repo.path)
    assert [(e.rel, e.name, e.jtype, e.has_config) for e in found.executors] == [
        ("a/exec", "Alpha", "Alpha", True),
        ("a-c", "Gamma", "Gamma", False),
        ("b-exec", "beta", "Beta", True),
    ]
    assert found.skipped == []


def test_untracked_files_count_but_ignored_ones_do_not(repo: Repo) -> None:
    repo.write(".gitignore", "generated/\n")
    repo.executor("kept", "Kept")  # untracked, not ignored
    repo.executor("generated/exec", "Generated")
    repo.write("sub/.gitignore", "hidden\n")
    repo.executor("sub/hidden", "Hidden")
    repo.executor("sub/shown", "Shown")
    assert _paths(repo.path) == ["kept", "sub/shown"]


def test_tests_virtualenvs_and_vcs_folders_are_never_searched(repo: Repo) -> None:
    repo.executor("real", "Real")
    repo.executor("tests/fixtures/fake", "Fake")
    repo.executor("pkg/tests/fake", "Fake2")
    repo.executor("env/lib/site-packages/thing", "Thing")
    repo.write("env/pyvenv.cfg", "home = /usr\n")
    repo.executor("env/lib/x", "InVenv")
    repo.executor("node_modules/y", "InNodeModules")
    repo.executor(".venv/z", "InDotVenv")
    assert _paths(repo.path) == ["real"]


def test_executors_do_not_nest(repo: Repo) -> None:
    repo.executor("outer", "Outer")
    repo.executor("outer/executor", "InnerClass", config=False)  # outer/executor/executor.py
    repo.executor("outer/sub", "Sub")
    assert _paths(repo.path) == ["outer"]


def test_executor_subfolder_of_a_config_less_executor(repo: Repo) -> None:
    repo.write("solo/executor/impl.py", executor_files("Solo", config=False)["executor.py"])
    repo.write("solo/README.md", "# solo\n")
    found = discover(repo.path).executors
    assert [(e.rel, e.jtype) for e in found] == [("solo", "Solo")]


def test_root_itself_can_be_the_executor(repo: Repo) -> None:
    repo.executor("", "Root")
    repo.executor("nested", "Nested")
    assert _paths(repo.path) == ["."]


def test_folders_that_look_like_executors_but_are_not(repo: Repo) -> None:
    repo.write("nojtype/config.yml", "metas:\n  name: x\n")
    repo.write("broken/config.yml", "jtype: [unclosed\n")
    repo.write("two/a.py", "from jina import Executor\nclass A(Executor): ...\n")
    repo.write("two/b.py", "import jina\nclass B(jina.Executor): ...\n")
    repo.write("other/config.yml", "log_level: debug\n")  # some other tool's config: silent
    repo.write("lib/util.py", "class Executor:\n    pass\n")  # defines it, does not derive
    found = discover(repo.path)
    assert found.executors == []
    assert found.skipped == [
        "broken: config.yml has no string `jtype`, so it is not an executor",
        "nojtype: config.yml has no string `jtype`, so it is not an executor",
        "two: 2 Executor classes (A, B) and no config.yml; the Hub accepts exactly one "
        "(add a config.yml with its jtype)",
    ]


def test_paths_are_relative_to_the_work_tree_top(repo: Repo) -> None:
    repo.executor("group/one", "One")
    repo.executor("other/two", "Two")
    found = discover(repo.path / "group")
    assert [found.rel_to_top(e.rel) for e in found.executors] == ["group/one"]


@pytest.mark.parametrize("in_git", [True, False], ids=["git", "walk"])
def test_walk_and_git_agree_on_nested_gitignore(repo: Repo, tmp_path: Path, in_git: bool) -> None:
    repo.write(".gitignore", "build/\n*.tmp\n")
    repo.write("pkg/.gitignore", "/private/\n!build/\n")
    repo.executor("build/gone", "Gone")
    repo.executor("pkg/private", "Private")
    repo.executor("pkg/deep/private", "DeepPrivate")  # "/private/" is anchored to pkg/
    repo.executor("pkg/visible", "Visible")
    repo.executor("x.tmp", "Tmp")
    root = repo.path
    if not in_git:
        root = tmp_path / "plain"
        shutil.copytree(repo.path, root, ignore=shutil.ignore_patterns(".git"))
    found = discover(root)
    assert (found.work_tree is not None) is in_git
    assert [e.rel for e in found.executors] == ["pkg/deep/private", "pkg/visible"]


def test_walk_does_not_enter_virtualenvs_outside_git(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    for folder, cls in (("ok", "Ok"), ("venv2/lib/e", "InVenv")):
        for rel, text in executor_files(cls).items():
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / rel).write_text(text)
    (root / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    assert _paths(root) == ["ok"]


def test_names_agree_with_resolve_name(repo: Repo) -> None:
    from hubci.executor.config import resolve_name

    repo.executor("metas", "M", name="from-metas")
    repo.executor("manifest", "F")
    repo.write("manifest/manifest.yml", "name: from-manifest\n")
    repo.executor("both", "B", name="metas-wins")
    repo.write("both/manifest.yml", "name: manifest-loses\n")
    repo.executor("bare", "J")
    repo.executor("noconfig", "N", config=False)
    repo.write("noconfig/manifest.yml", "name: manifest-no-config\n")
    repo.executor("noconfig-bare", "NB", config=False)
    found = discover(repo.path).executors
    assert [(e.rel, e.name) for e in found] == [
        ("bare", "J"),
        ("both", "metas-wins"),
        ("manifest", "from-manifest"),
        ("metas", "from-metas"),
        ("noconfig", "manifest-no-config"),
        ("noconfig-bare", "NB"),
    ]
    assert all(e.name == resolve_name(e.folder)[0] for e in found)
