"""The real pre-commit runs this repository's `hubci-validate` hook in a temporary git repo.

`pre-commit try-repo` clones the hook repository, installs it with pip into a fresh virtualenv
(network to PyPI) and runs the hook on the target repository's tracked files. The hook
repository is a fresh git repo holding a copy of this project's current files, so the test
checks the working tree, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.validate.support import CONFIG, EXECUTOR

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
PROJECT_FILES = ["pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "hubci"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "hubci tests",
    "GIT_AUTHOR_EMAIL": "tests@hubci.invalid",
    "GIT_COMMITTER_NAME": "hubci tests",
    "GIT_COMMITTER_EMAIL": "tests@hubci.invalid",
}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


def _repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "initial")
    return path


def _hook_repository(dest: Path) -> Path:
    dest.mkdir()
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "hubci under test")
    return dest


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_pre_commit_hook_passes_the_good_executor_and_fails_the_broken_one(
    tmp_path: Path,
) -> None:
    hooks = _hook_repository(tmp_path / "hubci")
    target = _repo(
        tmp_path / "executors",
        {
            "README.md": "two executors\n",
            "good/config.yml": CONFIG,
            "good/executor.py": EXECUTOR,
            "good/requirements.txt": "numpy>=1.21\n",
            "broken/config.yml": CONFIG.replace("jtype: MyExecutor", "jtype: Missing"),
            "broken/executor.py": EXECUTOR,
            "broken/requirements.txt": "torch==$TORCH_VERSION\n",
            "leaky/config.yml": CONFIG,
            "leaky/executor.py": EXECUTOR,
            "leaky/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        },
    )
    (target / "leaky" / "data").symlink_to("/etc")
    _git(target, "add", "leaky/data")
    _git(target, "commit", "-q", "-m", "a link out of the folder")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_CACHE_DIR": str(REPO / ".cache" / "pip"),  # gitignored; speeds up re-runs
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "try-repo", str(hooks), "hubci-validate", "--files", *files],
            cwd=target,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    good = run("good/config.yml", "good/executor.py", "good/requirements.txt", "README.md")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    broken = run("broken/config.yml", "broken/requirements.txt")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "broken/config.yml:1:8: HUB201 error: class Missing (the jtype)" in broken.stdout
    assert "broken/requirements.txt:1:8: HUB401 error" in broken.stdout
    assert "good" not in broken.stdout.split("Failed", 1)[1]

    # files that are neither config nor code still change the bundle: a key, a link out
    leaky = run("leaky/id_rsa", "leaky/data")
    assert leaky.returncode == 1, leaky.stdout + leaky.stderr
    assert "leaky/id_rsa: HUB80" in leaky.stdout
    assert "leaky/data: HUB601 error" in leaky.stdout
