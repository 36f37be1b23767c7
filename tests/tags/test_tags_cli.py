"""``hubci tags`` end to end: real git repositories, GitHub env, exact output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from hubci.cli import main
from hubci.tags import TagOptions, tag_rule_options

SEMVER = ["--tags", "type=semver,pattern={{version}}", "--tags", "type=semver,pattern={{major}}"]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]


@pytest.fixture
def hubci(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    def run(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(["tags", *args])
        captured = capsys.readouterr()
        code = info.value.code if isinstance(info.value.code, int) else 1
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": "2021-03-04T05:06:07Z",
        "GIT_COMMITTER_DATE": "2021-03-04T05:06:07Z",
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for name in (
        "SOURCE_DATE_EPOCH",
        "DOCKER_METADATA_PR_HEAD_SHA",
        "DOCKER_METADATA_SHORT_SHA_LENGTH",
    ):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "repo"
    path.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"]):
        subprocess.run(["git", *args], cwd=path, check=True, timeout=60)
    return path


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


def test_default_rules_on_branch(hubci: Runner, repo: Path) -> None:
    result = hubci(cwd=repo)
    assert (result.code, result.out, result.err) == (0, "main\n", "")


def test_release_tag_text(hubci: Runner, repo: Path) -> None:
    git(repo, "tag", "v1.4.2")
    git(repo, "checkout", "-q", "--detach", "v1.4.2")
    result = hubci(*SEMVER, cwd=repo)
    assert (result.code, result.out) == (0, "1.4.2\n1\nlatest\n")


def test_json_output(hubci: Runner, repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    result = hubci(
        *SEMVER,
        "--protected-tags",
        "type=semver,pattern={{version}}",
        "--ref",
        "refs/tags/v1.4.2",
        "--format",
        "json",
        cwd=repo,
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["version"] == "1.4.2"
    assert data["tags"] == ["1", "latest"]
    assert data["protected_tags"] == ["1.4.2"]
    assert data["latest"] is True
    assert data["context"]["ref"] == "refs/tags/v1.4.2"
    assert data["context"]["sha"] == sha
    assert data["context"]["source"] == "git"
    assert data["context"]["commit_date"] == "2021-03-04T05:06:07+00:00"
    assert set(data) >= {"version", "tags", "protected_tags", "latest", "context"}


def test_text_lists_protected_last_and_explain(hubci: Runner, repo: Path) -> None:
    args = (*SEMVER, "--protected-tags", "type=semver,pattern={{version}}", "--ref", "v9.0.0")
    git(repo, "tag", "v9.0.0")
    assert hubci(*args, cwd=repo).out == "9\nlatest\n9.0.0\n"
    explained = hubci(*args, "--explain", cwd=repo).out.splitlines()
    assert explained[0] == "9       from type=semver,pattern={{major}} (--tags line 2)"
    assert explained[-1].endswith("(--protected-tags line 1) [protected]")


def test_flavor_and_multiline_rules(hubci: Runner, repo: Path) -> None:
    rules = "type=ref,event=branch\ntype=sha,prefix=\n"
    result = hubci(
        "--tags", rules, "--flavor", "prefix=x-\nlatest=true", "--sha", "abcdef01234", cwd=repo
    )
    assert result.out == "x-main\nabcdef0\nlatest\n"  # the rule's empty prefix wins


def test_bad_rule_is_one_line_exit_2(hubci: Runner, tmp_path: Path) -> None:
    result = hubci("--tags", "type=raw,value=ok\ntype=semverr,pattern=x", cwd=tmp_path)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "hubci: error: --tags line 2: Unknown tag type attribute: semverr in "
        "'type=semverr,pattern=x' (use one of: schedule, semver, pep440, match, edge, ref, raw, "
        "sha)\n"
    )


def test_bad_flavor(hubci: Runner, repo: Path) -> None:
    result = hubci("--flavor", "latest=sometimes", cwd=repo)
    assert result.code == 2
    assert result.err.startswith("hubci: error: --flavor line 1: Invalid latest flavor entry")
    assert result.err.count("\n") == 1


def test_not_a_repository(hubci: Runner, tmp_path: Path) -> None:
    result = hubci(cwd=tmp_path)
    assert result.code == 2
    assert "is not in a git repository" in result.err
    assert "Traceback" not in result.err
    ok = hubci("--ref", "refs/heads/feature/x", cwd=tmp_path)
    assert (ok.code, ok.out) == (0, "feature-x\n")


def test_no_tags_is_a_warning(hubci: Runner, repo: Path) -> None:
    result = hubci("--tags", "type=semver,pattern={{version}}", cwd=repo)
    assert (result.code, result.out) == (0, "")
    assert "hubci: warning: no tag was generated for ref 'refs/heads/main'" in result.err


def test_github_actions_context_and_annotations(
    hubci: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"number": 15, "repository": {"default_branch": "master"}}))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_target")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/master")
    monkeypatch.setenv("GITHUB_SHA", "266574110acf203503badf966df2ea24b5d732d7")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(payload))
    result = hubci("--tags", "type=ref,event=pr\ntype=sha\ntype=ref,event=branch", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "pr-15\nsha-2665741\n", "")
    warned = hubci("--tags", "type=match,pattern=^x,value=abc", cwd=tmp_path)
    assert warned.err.startswith("::warning::type=match,pattern=^x,value=abc (--tags line 1)")


def test_help_lists_the_options(hubci: Runner, tmp_path: Path) -> None:
    result = hubci("--help", cwd=tmp_path)
    assert result.code == 0
    for option in (
        "--tags",
        "--flavor",
        "--protected-tags",
        "--ref",
        "--sha",
        "--default-branch",
        "--format",
    ):
        assert option in result.out


def test_real_entry_point(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hubci", "tags", "--ref", "refs/tags/v0.3.1", *SEMVER],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "0.3.1\n0\nlatest\n", "")


def test_options_reusable_on_another_command(repo: Path) -> None:
    """What ``hubci push`` does: the same six options next to its own, popped from kwargs."""
    seen: dict[str, Any] = {}

    @click.command()
    @click.option("-t", "--tag", "tags", multiple=True)
    @tag_rule_options
    def fake_push(**kwargs: Any) -> None:
        options = TagOptions.pop_from(kwargs)
        context, plan = options.resolve(env={}, cwd=repo)
        merged = plan.with_explicit(kwargs.pop("tags"))
        seen.update(rest=kwargs, has_rules=options.has_rules, tags=merged.tags, ref=context.ref)

    result = CliRunner().invoke(
        fake_push, ["-t", "extra", "--tags", "type=raw,value=rc", "--ref", "refs/heads/x"]
    )
    assert result.exit_code == 0, result.output
    assert seen == {"rest": {}, "has_rules": True, "tags": ("rc", "extra"), "ref": "refs/heads/x"}
    assert TagOptions().has_rules is False
