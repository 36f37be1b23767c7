"""The Action on a fork's hostile pull request, read as the runner reads it: no command but
hubci's own, no extra output, no break-out of the summary or comment, no visible secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from hubci.action.inputs import OUTPUTS
from testing.github_fake import GitHubFake
from testing.runner import HUBCI_COMMANDS, commands
from tests.action.test_action_run import _git, new_workspace, run_action, run_pr

GFM = MarkdownIt("commonmark").enable("table")
PEM = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A workspace with the example executor, committed."""
    return new_workspace(tmp_path)


def _hostile_fork(workspace: Path) -> None:
    """What a fork can add: files whose names are workflow commands in every form."""
    folder = workspace / "hello"
    for n in range(11):
        (folder / f"::set-output name=x{n}::pwned{n}.key").write_text(PEM)
    (folder / "progress\r::set-output name=cr::pwned.key").write_text(PEM)
    (folder / "echo ##[set-output name=v1;]pwned.key").write_text(PEM)
    (folder / "x\n\n<details open>\n\n# pwned @octo-org|x.key").write_text(PEM)
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "fork")


def _assert_runner_safe(text: str) -> None:
    for command in commands(text):
        assert command.name in HUBCI_COMMANDS, command
        assert command.line.startswith("::"), command
        # a hostile file name stays inside its (escaped) property value
        assert set(command.properties) <= {"file", "line", "col", "title"}, command


def test_fork_file_names_cannot_steer_the_runner(hostile: Path, github_fake: GitHubFake) -> None:
    _hostile_fork(hostile)
    run = run_pr(
        hostile,
        {"path": "hello", "mode": "rehearse", "github-token": "gh-token-123456"},
        github_fake,
    )
    assert run.code == 2, run.stdout + run.stderr
    _assert_runner_safe(run.stdout)
    _assert_runner_safe(run.stderr)
    errors = [c for c in commands(run.stdout) if c.name == "error"]
    assert len(errors) == 10, "the runner's limit; the rest are inert log lines"
    assert "the runner shows 10 error annotations per step" in run.stdout
    assert set(run.outputs) == set(OUTPUTS)
    details = ["<details><summary>14 validation finding(s)</summary>", "</details>"]
    comment = github_fake.comments[7][0]["body"]
    for document, html_blocks in (
        (run.summary, details),
        (comment, ["<!-- hubci:push -->", *details]),
    ):
        tokens = GFM.parse(document)
        assert [t.type for t in tokens].count("heading_open") == 1
        assert [t.content.strip() for t in tokens if t.type == "html_block"] == html_blocks
        # the hostile name shows only inside code spans (no mention, no heading)
        inline = [c for t in tokens for c in (t.children or [])]
        assert not any(c.type == "text" and "@octo-org" in c.content for c in inline)
    statuses = [s["description"] for s in github_fake.statuses]
    assert all("\n" not in d and "\r" not in d for d in statuses)


def test_hub_url_credentials_never_show(hostile: Path) -> None:
    password = "hunter2-pass-5f1e"
    for url in (f"htps://me:{password}@hub.example", f"https://me:{password}@127.0.0.1:9"):
        run = run_action(
            hostile,
            {"path": "hello", "mode": "push", "token": "tok-abcdef123", "hub-url": url},
            event="push",
            ref="refs/tags/v1.0.0",
        )
        assert run.code == 2, run.stdout + run.stderr
        masks = [c.data for c in commands(run.stdout) if c.name == "add-mask"]
        assert password in masks, "the runner is told to mask it, before anything else"
        shown = "\n".join(ln for ln in run.stdout.splitlines() if not ln.startswith("::add-mask::"))
        for channel in (shown, run.stderr, run.summary, *run.outputs.values()):
            assert password not in channel
        assert "input hub-url" in run.stdout


def test_a_hostile_hub_stream_cannot_steer_the_runner(hostile: Path) -> None:
    """A Hub whose build log and error are workflow commands, markdown and the token itself."""
    import json

    from testing.hostile_hub import HostileHub

    token = "tok-abcdef123456"
    lines = [
        {"type": "start", "subject": "buildWorkspace"},
        {"type": "console", "subject": "b", "payload": "10%\r::set-output name=x::pwned"},
        {"type": "console", "subject": "b", "payload": "RUN echo ##[set-output name=y;]pwned"},
        {"type": "console", "subject": "b", "payload": f"echo {token} and {token.upper()}"},
        {"type": "warning", "subject": "b", "message": "\n::add-mask::x\u200b::error::y"},
        {
            "type": "error",
            "payload": {
                "readableMessage": f"failed\r\n</details>\n\n# pwned @octo-org\r::set-output "
                f"name=z::pwned {token}"
            },
        },
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    hub = HostileHub("fixed", "executor.push", body=body).start()
    try:
        run = run_action(
            hostile,
            {
                "path": "hello",
                "mode": "push",
                "token": token,
                "hub-url": hub.url,
                "verbose": "true",
            },
            event="push",
            ref="refs/tags/v1.0.0",
        )
    finally:
        hub.stop()
    assert run.code == 1, run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    assert set(run.outputs) == set(OUTPUTS)
    _assert_runner_safe(run.stdout)
    _assert_runner_safe(run.stderr)
    # shown, inert (text mode reads the bare \r as a line break, as the runner does)
    assert "  | 10%\n| ::set-output name=x::pwned\n" in run.stdout
    assert "##\\[set-output name=y;]pwned" in run.stdout
    shown = "\n".join(ln for ln in run.stdout.splitlines() if not ln.startswith("::add-mask::"))
    for channel in (shown, run.stderr, run.summary, *run.outputs.values()):
        assert token not in channel
    tokens = GFM.parse(run.summary)
    assert [t.type for t in tokens].count("heading_open") == 1
    assert [t for t in tokens if t.type == "html_block"] == []
