"""push and build list validation findings exactly as `hubci validate` prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.push.conftest import TOKEN, Cli


def test_push_and_build_show_findings_as_validate_does(
    cli: Cli, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (executor / "requirements.txt").write_text("docarray\ntorch==$TORCH_VERSION\n")
    config = executor / "config.yml"
    key_line = len(config.read_text().splitlines()) + 1
    config.write_text(config.read_text() + "unknown_key: 1\n")
    monkeypatch.chdir(executor.parent)
    validate = cli("validate", executor.name)
    assert validate.code == 1
    shown = [ln for ln in validate.out.splitlines() if " error: " in ln or " warning: " in ln]
    assert shown[0] == (
        "hello-executor/requirements.txt:2:8: HUB401 error: $TORCH_VERSION has no braces: "
        "the Hub substitutes only ${TORCH_VERSION} (write ${TORCH_VERSION})"
    )
    assert shown[1].startswith(f"hello-executor/config.yml:{key_line}:1: HUB114 warning: ")
    assert len(shown) == 2

    # Nothing is contacted: validation stops both before any network or Engine call.
    push = cli("push", executor.name, "--hub-url", "http://127.0.0.1:9", "--token", TOKEN)
    build = cli("build", executor.name)
    for run, verb in ((push, "sent"), (build, "built")):
        assert run.code == 2, run.err
        lines = run.err.strip().splitlines()
        assert lines[:2] == shown, run.err
        assert lines[-1].startswith("hubci: error: 1 validation error(s) in ")
        assert f"nothing was {verb}" in lines[-1]
