"""Outputs quoted in docs/*.md are what the commands print for the setup the docs describe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubci.cli import cli

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _block_after(doc: str, marker: str) -> str:
    """The first fenced code block after ``marker`` in ``doc``."""
    rest = doc[doc.index(marker) :]
    match = re.search(r"```[a-z]*\n(.*?)```", rest, re.S)
    assert match, marker
    return match.group(1)


def test_validate_text_example_is_real_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exec1 = tmp_path / "exec1"
    exec1.mkdir()
    (exec1 / "config.yml").write_text(
        "jtype: OtherExecutor\nmetas:\n  name: MyExecutor\n  py_modules:\n    - executor.py\n"
    )
    (exec1 / "executor.py").write_text(
        "from jina import Executor\n\n\nclass MyExecutor(Executor):\n    pass\n"
    )
    (exec1 / "requirements.txt").write_text("jina\ntorch==$TORCH_VERSION\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "exec1"], prog_name="hubci")
    assert result.exit_code == 1
    shown = _block_after((DOCS / "validate.md").read_text(), "**text** (the default)")
    assert result.stdout == shown


def test_push_json_example_has_the_example_executors_bundle() -> None:
    result = CliRunner().invoke(
        cli,
        ["push", str(REPO / "examples" / "hello-executor"), "--dry-run", "--format", "json",
         "--hub-url", "http://127.0.0.1:9"],
        prog_name="hubci",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)["bundle"]
    shown = _block_after((DOCS / "push.md").read_text(), "`--format json` prints one object")
    md5, size, files = bundle["md5"], bundle["size"], bundle["files"]
    assert f'"bundle": {{"md5": "{md5}", "size": {size}, "files": {files}}},' in shown
