"""Project-level checks: lint and types are part of the suite; the README and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a bash code block"
    return [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]


def test_readme_opens_with_the_two_commands() -> None:
    main_job, tests = _readme_commands()
    assert "hubci push examples/hello-executor --hub local" in main_job
    assert tests.endswith("python -m pytest")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (REPO / ".ci" / "run").read_text().splitlines()
    last = [ln for ln in script if ln.strip() and not ln.startswith("#")][-1]
    assert last.strip() == _readme_commands()[1]


@pytest.mark.parametrize(
    "argv",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_lint_and_types_are_clean(argv: list[str]) -> None:
    proc = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def test_pre_commit_manifest_is_valid() -> None:
    proc = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", ".pre-commit-hooks.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _table_names(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([a-z-]+)` \|", section, re.M)


def test_readme_tables_match_action_yml() -> None:
    import yaml

    meta = yaml.safe_load((REPO / "action.yml").read_text())
    text = (REPO / "README.md").read_text()
    assert _table_names(text, "### Inputs") == list(meta["inputs"])
    assert _table_names(text, "### Outputs") == list(meta["outputs"])


def test_readme_release_workflow_is_the_example_file() -> None:
    example = (REPO / "examples" / "workflows" / "release.yml").read_text()
    assert f"```yaml\n{example}```" in (REPO / "README.md").read_text()
