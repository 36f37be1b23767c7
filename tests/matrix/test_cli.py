"""``hubci matrix`` end to end: stdout, stderr, exit codes and the GitHub Actions outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.matrix.gitrepo import CliRunner, Repo


@pytest.fixture
def monorepo(repo: Repo) -> tuple[Repo, str]:
    repo.executor("execs/a", "A", name="alpha")
    repo.executor("execs/b", "B")
    repo.write("docs/index.md", "# docs\n")
    return repo, repo.commit()


def _outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return dict(pairs)


def test_json_lists_every_executor(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, _ = monorepo
    res = hubci("matrix", "--platforms", "linux/amd64, linux/arm64", cwd=repo.path)
    assert res.code == 0, res.err
    assert res.out.count("\n") == 1
    assert json.loads(res.out) == {
        "include": [
            {
                "path": "execs/a",
                "name": "alpha",
                "jtype": "A",
                "platforms": "linux/amd64,linux/arm64",
            },
            {"path": "execs/b", "name": "B", "jtype": "B", "platforms": "linux/amd64,linux/arm64"},
        ]
    }
    assert res.err == "hubci: matrix: 2 executors under .\n"


def test_changed_since_names_the_reason(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, base = monorepo
    repo.write("execs/b/requirements.txt", "numpy\n")
    repo.commit()
    res = hubci("matrix", "execs", "--changed-since", base, cwd=repo.path)
    assert res.code == 0
    assert [e["path"] for e in json.loads(res.out)["include"]] == ["execs/b"]
    assert res.err == (
        f"hubci: matrix: 1 of 2 executors changed since {base} (merge base {base[:12]})\n"
        "  execs/b: added execs/b/requirements.txt\n"
    )


def test_empty_matrix_is_valid_and_says_so(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, base = monorepo
    repo.write("docs/index.md", "# more docs\n")
    repo.commit()
    res = hubci("matrix", "--changed-since", base, cwd=repo.path)
    assert res.code == 0
    assert json.loads(res.out) == {"include": []}
    assert "hubci: matrix is empty: none of 2 executors changed since" in res.err


def test_removed_executor_is_said_on_stderr(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, base = monorepo
    repo.git("rm", "-q", "-r", "execs/a")
    repo.commit()
    res = hubci("matrix", "--changed-since", base, cwd=repo.path)
    assert res.code == 0
    assert json.loads(res.out) == {"include": []}
    assert (
        f"hubci: executor execs/a was removed since {base}: it is not in the matrix "
        "(nothing to push)\n"
    ) in res.err


def test_github_format_writes_outputs_and_summary(
    monorepo: tuple[Repo, str],
    hubci: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, base = monorepo
    repo.write("execs/a/executor.py", "from jina import Executor\nclass A(Executor): ...\n")
    repo.git("rm", "-q", "-r", "execs/b")
    repo.commit()
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    output.write_text("earlier=kept\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # github becomes the default format
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    res = hubci("matrix", "--changed-since", base, cwd=repo.path)
    assert res.code == 0, res.err
    outputs = _outputs(output)
    assert outputs["earlier"] == "kept"
    assert outputs["matrix"] == res.out.strip()
    assert json.loads(outputs["matrix"])["include"][0]["path"] == "execs/a"
    assert outputs["count"] == "1"
    assert json.loads(outputs["removed"]) == ["execs/b"]
    text = summary.read_text()
    assert "| `execs/a` | `alpha` | `A` | Hub default | `changed execs/a/executor.py` |" in text
    assert "Removed since the base (nothing to push):\n\n- `execs/b`\n" in text


def test_github_format_empty_matrix(
    monorepo: tuple[Repo, str], hubci: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base = monorepo
    output = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    res = hubci("matrix", "--changed-since", base, "--format", "github", cwd=repo.path)
    assert res.code == 0
    assert output.read_text() == 'matrix={"include":[]}\ncount=0\nremoved=[]\n'


def test_fallback_warning_is_an_annotation_in_actions(
    monorepo: tuple[Repo, str], hubci: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = monorepo
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    res = hubci("matrix", "--changed-since", "origin/main", cwd=repo.path)
    assert res.code == 0
    assert res.err.splitlines()[0] == (
        "::warning title=hubci matrix::cannot tell what changed since origin/main: "
        "'origin/main' is not a commit in this repository; using all executors"
    )
    assert _outputs(tmp_path / "output")["count"] == "2"


def test_plain_warning_outside_actions(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, _ = monorepo
    res = hubci("matrix", "--changed-since", "v9", cwd=repo.path)
    assert res.code == 0
    assert res.err.splitlines()[0].startswith("hubci: warning: cannot tell what changed since v9")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "github"],
            "hubci: error: --format github needs $GITHUB_OUTPUT (the file GitHub Actions reads "
            "outputs from) (run it in a GitHub Actions step, or use --format json)",
        ),
        (
            ["--platforms", "linux/amd64,windows/amd64"],
            "hubci: error: --platform: unknown platform 'windows/amd64'; use one of: ",
        ),
        (["missing-folder"], "hubci: error: missing-folder does not exist"),
        (
            ["--always", "!"],
            "hubci: error: --always '!' is not a valid pattern: ",
        ),
    ],
    ids=["github-without-output", "bad-platform", "missing-root", "bad-pattern"],
)
def test_bad_input_is_one_line_exit_2(
    monorepo: tuple[Repo, str], hubci: CliRunner, args: list[str], message: str
) -> None:
    repo, _ = monorepo
    res = hubci("matrix", *args, cwd=repo.path)
    assert res.code == 2
    assert res.out == ""
    assert res.err.count("\n") == 1
    assert res.err.startswith(message)
    assert "Traceback" not in res.err


def test_root_that_is_a_file_is_refused(monorepo: tuple[Repo, str], hubci: CliRunner) -> None:
    repo, _ = monorepo
    res = hubci("matrix", "docs/index.md", cwd=repo.path)
    assert res.code == 2
    assert res.out == ""
    assert res.err == (
        "hubci: error: docs/index.md is not a folder (pass the folder holding the executors)\n"
    )


def test_undecodable_file_name_is_shown_escaped(
    monorepo: tuple[Repo, str], hubci: CliRunner
) -> None:
    repo, base = monorepo
    with open(bytes(repo.path / "execs" / "a") + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"data\n")
    res = hubci("matrix", "--changed-since", base, cwd=repo.path)
    assert res.code == 0, res.err
    assert [e["path"] for e in json.loads(res.out)["include"]] == ["execs/a"]
    assert "  execs/a: added execs/a/caf\\xe9.txt\n" in res.err


def test_file_names_cannot_inject_workflow_commands(
    monorepo: tuple[Repo, str], hubci: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = monorepo
    repo.executor("execs/c\n::warning::gone", "C")
    base = repo.commit()
    repo.write("execs/a/x\n::error title=injected::boom", "data\n")
    repo.git("rm", "-rq", "execs/c\n::warning::gone")  # a removed executor is named too
    repo.commit()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    res = hubci("matrix", "--changed-since", base, cwd=repo.path)
    assert res.code == 0, res.err
    assert [e["path"] for e in json.loads(res.out)["include"]] == ["execs/a"]
    assert not [line for line in res.err.splitlines() if line.startswith("::")]
    assert "  execs/a: added execs/a/x\\x0a::error title=injected::boom\n" in res.err
    assert "hubci: executor execs/c\\x0a::warning::gone was removed since " in res.err
    summary = (tmp_path / "summary").read_text()
    assert "execs/a/x\\x0a::error" in summary
    assert "- `execs/c\\x0a::warning::gone`\n" in summary


def test_unwritable_github_output_is_one_line(
    monorepo: tuple[Repo, str], hubci: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = monorepo
    target = tmp_path / "no-such-dir" / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    res = hubci("matrix", "--format", "github", cwd=repo.path)
    assert res.code == 2
    assert res.out == ""  # no matrix for a step whose outputs were not written
    assert res.err.splitlines()[-1] == (
        f"hubci: error: cannot write the step outputs to {target}: No such file or directory "
        "(check $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY, or use --format json)"
    )
