"""Change detection in real git repositories: what marks an executor and what does not."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from hubci.matrix.plan import MatrixRequest, MatrixResult, build_matrix
from tests.matrix.gitrepo import Repo


def _matrix(root: Path, ref: str | None, *always: str) -> MatrixResult:
    return build_matrix(MatrixRequest(root=root, changed_since=ref, always=always))


def _paths(result: MatrixResult) -> list[str]:
    return [e.path for e in result.entries]


def _three(repo: Repo) -> str:
    repo.executor("execs/a", "A")
    repo.executor("execs/b", "B")
    repo.executor("execs/c", "C", config=False)
    repo.write("shared/base.Dockerfile", "FROM python:3.11\n")
    repo.write("README.md", "# monorepo\n")
    return repo.commit("three executors")


def test_one_changed_file_gives_a_one_entry_matrix(repo: Repo) -> None:
    base = _three(repo)
    repo.write(
        "execs/b/executor.py", "from jina import Executor\n\nclass B(Executor):\n    x = 1\n"
    )
    repo.commit()
    result = _matrix(repo.path, base)
    assert result.mode == "changed"
    assert result.to_json() == {
        "include": [{"path": "execs/b", "name": "B", "jtype": "B", "platforms": ""}]
    }
    assert result.reasons == {"execs/b": "changed execs/b/executor.py"}
    assert result.total == 3


def test_added_executor(repo: Repo) -> None:
    base = _three(repo)
    repo.executor("execs/d", "D")
    repo.commit()
    result = _matrix(repo.path, base)
    assert _paths(result) == ["execs/d"]
    assert result.reasons["execs/d"].startswith("added execs/d/")


def test_shared_file_outside_every_bundle_marks_nothing(repo: Repo) -> None:
    base = _three(repo)
    repo.write("shared/base.Dockerfile", "FROM python:3.12\n")
    repo.write("README.md", "# changed\n")
    repo.commit()
    result = _matrix(repo.path, base)
    assert result.entries == []
    assert result.mode == "changed"
    assert result.removed == []


def test_always_pattern_marks_every_executor(repo: Repo) -> None:
    base = _three(repo)
    repo.write("shared/base.Dockerfile", "FROM python:3.12\n")
    repo.commit()
    result = _matrix(repo.path, base, "*.md", "shared/*.Dockerfile")
    assert _paths(result) == ["execs/a", "execs/b", "execs/c"]
    assert set(result.reasons.values()) == {"shared/base.Dockerfile matches --always"}
    assert _paths(_matrix(repo.path, base, "*.md")) == []


def test_ignored_files_do_not_mark(repo: Repo) -> None:
    repo.executor("execs/plain", "Plain")  # no .gitignore: the built-in default list applies
    repo.executor("execs/own", "Own")
    repo.write("execs/own/.gitignore", "data/\n")
    repo.write("execs/plain/__pycache__/executor.cpython-311.pyc", "old")
    repo.write("execs/own/data/model.bin", "old")
    repo.git("add", "-A", "-f")  # tracked although ignored (force-added, or ignored later)
    base = repo.commit()
    repo.write("execs/plain/__pycache__/executor.cpython-311.pyc", "new")
    repo.write("execs/own/data/model.bin", "new")
    repo.git("add", "-A", "-f")
    repo.commit()
    assert _matrix(repo.path, base).entries == []
    repo.write("execs/own/.gitignore", "data/\n*.log\n")  # the ignore file itself is bundled
    repo.commit()
    assert _paths(_matrix(repo.path, base)) == ["execs/own"]


def test_renamed_executor_marks_the_new_one_and_reports_the_old(repo: Repo) -> None:
    base = _three(repo)
    repo.git("mv", "execs/a", "execs/alpha")
    repo.commit()
    result = _matrix(repo.path, base)
    assert _paths(result) == ["execs/alpha"]
    assert result.reasons["execs/alpha"].startswith("renamed execs/a/")
    assert result.removed == ["execs/a"]


def test_file_moved_between_executors_marks_both(repo: Repo) -> None:
    repo.executor("execs/a", "A")
    repo.executor("execs/b", "B")
    repo.write("execs/a/helpers.py", "def helper() -> int:\n    return 1\n" * 20)
    base = repo.commit()
    repo.git("mv", "execs/a/helpers.py", "execs/b/helpers.py")
    repo.commit()
    result = _matrix(repo.path, base)
    assert _paths(result) == ["execs/a", "execs/b"]
    assert result.reasons["execs/a"] == "renamed execs/a/helpers.py -> execs/b/helpers.py"


def test_deleted_executor_is_reported_not_pushed(repo: Repo) -> None:
    base = _three(repo)
    repo.git("rm", "-q", "-r", "execs/c")
    repo.git("rm", "-q", "-r", "execs/a")
    repo.commit()
    result = _matrix(repo.path, base)
    assert result.entries == []
    assert result.removed == ["execs/a", "execs/c"]
    assert result.total == 1


def test_config_losing_its_jtype_is_a_removed_executor(repo: Repo) -> None:
    base = _three(repo)
    repo.write("execs/a/config.yml", "metas:\n  name: a\n")
    repo.commit()
    result = _matrix(repo.path, base)
    assert result.entries == []
    assert result.removed == ["execs/a"]


def test_deleting_a_plain_folder_is_not_a_removed_executor(repo: Repo) -> None:
    repo.write("tools/helper.py", "print('hi')\n")
    base = _three(repo)
    repo.git("rm", "-q", "-r", "tools")
    repo.commit()
    result = _matrix(repo.path, base)
    assert result.entries == []
    assert result.removed == []


def test_uncommitted_and_untracked_changes_count(repo: Repo) -> None:
    base = _three(repo)
    repo.write("execs/a/notes.txt", "untracked\n")
    repo.write("execs/b/executor.py", "# edited, not committed\n")
    repo.git("add", "execs/b/executor.py")
    result = _matrix(repo.path, base)
    assert result.reasons == {
        "execs/a": "added execs/a/notes.txt",
        "execs/b": "changed execs/b/executor.py",
    }


def test_merge_base_ignores_commits_that_landed_on_the_base_branch(repo: Repo) -> None:
    _three(repo)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("execs/a/feature.txt", "feature\n")
    repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    repo.write("execs/b/mainline.txt", "main moved on\n")
    repo.commit("main work")
    repo.git("checkout", "-q", "feature")
    assert _paths(_matrix(repo.path, "main")) == ["execs/a"]


def test_previous_tag_as_ref(repo: Repo) -> None:
    _three(repo)
    repo.git("tag", "v1.0.0")
    repo.write("execs/c/extra.py", "X = 1\n")
    repo.commit()
    result = _matrix(repo.path, "v1.0.0")
    assert _paths(result) == ["execs/c"]
    assert result.changes is not None
    assert result.changes.ref == "v1.0.0"


def test_root_below_the_top_only_lists_its_own_executors(repo: Repo) -> None:
    base = _three(repo)
    repo.executor("other/z", "Z")
    repo.write("execs/a/new.txt")
    repo.commit()
    result = _matrix(repo.path / "execs", base)
    assert _paths(result) == ["execs/a"]
    assert result.total == 3


def test_unknown_ref_falls_back_to_all(repo: Repo) -> None:
    _three(repo)
    result = _matrix(repo.path, "no-such-branch")
    assert result.mode == "fallback"
    assert _paths(result) == ["execs/a", "execs/b", "execs/c"]
    assert result.warnings == [
        "cannot tell what changed since no-such-branch: 'no-such-branch' is not a commit in this "
        "repository; using all executors"
    ]


def test_unrelated_history_falls_back_with_a_clean_reason(repo: Repo) -> None:
    _three(repo)
    repo.git("checkout", "-q", "--orphan", "other")
    repo.git("rm", "-rq", "--cached", ".")
    orphan = repo.commit("unrelated root commit")
    repo.git("checkout", "-q", "main")
    result = _matrix(repo.path, orphan)
    assert result.mode == "fallback"
    assert result.warnings == [
        f"cannot tell what changed since {orphan}: {orphan!r} and HEAD have no common history; "
        "using all executors"
    ]


def test_null_sha_falls_back_to_all(repo: Repo) -> None:
    _three(repo)
    result = _matrix(repo.path, "0" * 40)
    assert result.mode == "fallback"
    assert "null commit" in result.warnings[0]
    assert len(result.entries) == 3


def test_empty_ref_means_every_executor(repo: Repo) -> None:
    _three(repo)
    result = _matrix(repo.path, "  ")
    assert result.mode == "all"
    assert result.warnings == []
    assert len(result.entries) == 3


def test_shallow_clone_says_so_and_falls_back(repo: Repo, tmp_path: Path) -> None:
    first = _three(repo)
    repo.write("execs/a/more.txt")
    repo.commit()
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    result = _matrix(clone, first)
    assert result.mode == "fallback"
    assert _paths(result) == ["execs/a", "execs/b", "execs/c"]
    assert "the clone is shallow" in result.warnings[0]
    assert "fetch-depth: 0" in result.warnings[0]


def test_not_a_git_work_tree_falls_back(tmp_path: Path) -> None:
    folder = tmp_path / "plain" / "e"
    folder.mkdir(parents=True)
    (folder / "config.yml").write_text("jtype: E\npy_modules: [e.py]\n")
    (folder / "e.py").write_text("from jina import Executor\nclass E(Executor): ...\n")
    result = _matrix(tmp_path / "plain", "main")
    assert result.mode == "fallback"
    assert _paths(result) == ["e"]
    assert "is not in a git work tree" in result.warnings[0]


def test_always_negation_excludes_a_subtree(repo: Repo) -> None:
    base = _three(repo)
    repo.write("shared/docs/notes.md", "only docs\n")
    repo.commit()
    assert _matrix(repo.path, base, "shared/**", "!shared/docs/**").entries == []
    assert len(_matrix(repo.path, base, "shared/**").entries) == 3


def test_removed_detection_ignores_where_the_scratch_folder_lives(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write(".gitignore", "scratch/\n")
    base = _three(repo)
    scratch = repo.path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # temp files inside an ignored folder
    repo.git("rm", "-q", "-r", "execs/b")
    repo.commit()
    assert _matrix(repo.path, base).removed == ["execs/b"]
