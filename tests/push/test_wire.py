"""hubci sends the official client's requests, field for field.

The form is described in docs/protocol.md#the-upload-form.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.hubble import official_env, run_official
from tests.push.capture import Captured, capture_hub
from tests.push.conftest import Cli

TOKEN = "wire-token-5a6b7c8d"


def _uploads(log: list[Captured]) -> list[Captured]:
    return [c for c in log if c.method != "user.identity.whoami"]


CASES = {
    "minimal": [],
    "everything": [
        "-t", "v1", "-t", "latest", "--protected-tag", "v1.0.0", "--platform",
        "linux/amd64,linux/arm64", "--build-env", "SOME_KEY=a-value", "--no-cache", "--verbose",
        "--public", "-f", "hello/Dockerfile.gpu",
    ],
    "update": ["--force-update", "HelloExecutor", "--secret", "wire-secret-1", "--private"],
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_requests_as_the_official_client(
    cli: Cli, executor: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    folder = executor.parent / "hello"
    executor.rename(folder)
    (folder / "Dockerfile.gpu").write_text("FROM jinaai/jina:3-py38-perf\n")
    args = CASES[case]
    home = executor.parent / "official-home"
    home.mkdir()
    with capture_hub() as (url, log):
        official = run_official(
            ["push", "hello", *args], env=official_env(url, TOKEN, home), cwd=folder.parent
        )
        assert official.returncode == 0, official.stdout + official.stderr
        theirs = _uploads(log)
        log.clear()
        monkeypatch.chdir(folder.parent)
        ours_run = cli("push", "hello", "--hub-url", url, "--token", TOKEN, *args)
        assert ours_run.code == 0, ours_run.err
        # hubci asks first whether the Hub has this build (executor.getPackage; the capture
        # answers that it has none) and looks its task up; the upload itself must match
        ours = [c for c in _uploads(log) if c.method in ("executor.push", "executor.update")]
        whoami = [c for c in log if c.method == "user.identity.whoami"]

    assert [c.method for c in ours] == [c.method for c in theirs]
    assert len(ours) == 1
    mine, official_req = ours[0], theirs[0]
    assert [p.name for p in mine.parts] == [p.name for p in official_req.parts]
    for a, b in zip(mine.parts, official_req.parts, strict=True):
        if a.name == "md5sum":
            continue
        assert (a.name, a.value, a.filename, a.content_type) == (
            b.name, b.value, b.filename, b.content_type,
        ), a.name  # fmt: skip
    for req in (mine, official_req):
        fields = {p.name: p for p in req.parts}
        assert fields["md5sum"].value == fields["file"].md5  # each matches its own bundle
        assert req.headers["authorization"] == f"token {TOKEN}"
        assert req.headers["jinameta-session-id"]
    # hubci: one session id for the whole push (the Hub's traceId for this build)
    assert {c.headers["jinameta-session-id"] for c in [*whoami, mine]} == {
        mine.headers["jinameta-session-id"]
    }


def test_dry_run_announces_the_md5_that_is_sent(cli: Cli, executor: Path) -> None:
    """The bundle is deterministic: a dry run shows the md5sum a later push sends."""
    with capture_hub() as (url, log):
        run = cli("push", str(executor), "--hub-url", url, "--token", TOKEN, "--format", "json")
        assert run.code == 0, run.err
    push = next(c for c in log if c.method == "executor.push")
    md5 = next(p.value for p in push.parts if p.name == "md5sum")
    assert md5 == push.parts[-1].md5
    dry = cli("push", str(executor), "--dry-run", "--format", "json", "--hub-url", url)
    assert f'"md5": "{md5}"' in dry.out


def test_a_url_that_is_no_hub_fails_at_once(cli: Cli, executor: Path) -> None:
    with capture_hub() as (url, _log):
        missing = cli("push", str(executor), "--hub-url", url + "/not-a-hub", "--token", TOKEN)
        website = cli("push", str(executor), "--hub-url", url + "/site", "--token", TOKEN)
    assert missing.code == 3
    assert "the Hub does not know user.identity.whoami (HTTP 404)" in missing.err
    assert "check --hub-url / JINA_HUBBLE_REGISTRY" in missing.err
    assert website.code == 3
    assert "answered user.identity.whoami with something that is not Hub JSON" in website.err
    assert "attempt" not in missing.err + website.err  # nothing to retry
