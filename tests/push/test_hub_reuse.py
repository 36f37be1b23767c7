"""The local Hub never builds the same thing twice: a push of a bundle and parameters it already
built reuses that build (its images get the new tags) and says so in the build stream."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from hubci.server.embedded import HubHandle
from tests.push.conftest import TOKEN, Cli


def _push(cli: Cli, hub: HubHandle, executor: Path, *args: str) -> Any:
    run = cli("push", str(executor), "--hub-url", hub.url, "--token", TOKEN, "--force-build", *args)
    assert run.code == 0, run.err
    return run


def _builds(hub: HubHandle) -> list[tuple[str, str, str]]:
    """(id, bundle file, image ids) of every build, oldest first."""
    uri = f"file:{hub.data_dir / 'hub.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT id, bundle, params FROM builds ORDER BY rowid").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


REUSED = "build: buildWorkspace progress: reusing build "


def test_the_same_push_again_reuses_the_build(cli: Cli, hub: HubHandle, executor: Path) -> None:
    first = _push(cli, hub, executor, "-t", "v1")
    assert REUSED not in first.err
    again = _push(cli, hub, executor, "-t", "v2", "-t", "latest")
    assert REUSED in again.err, again.err
    assert "nothing is built" in again.err
    assert again.out.startswith("succeeded:")
    assert "tags:       v2, latest" in again.out
    (one, bundle_one, params_one), (two, bundle_two, params_two) = _builds(hub)
    assert one != two
    assert bundle_two == bundle_one  # one file for the same bytes
    assert params_two == params_one
    kept = sorted(p.name for p in (hub.data_dir / "bundles").iterdir())
    assert kept == [Path(bundle_one).name]


@pytest.mark.parametrize(
    "second",
    [
        ["--no-cache"],
        ["--platform", "linux/arm64"],
        ["--build-env", "SOME_KEY=some-value"],
    ],
)
def test_what_may_differ_builds_again(
    cli: Cli, hub: HubHandle, executor: Path, second: list[str]
) -> None:
    _push(cli, hub, executor)
    again = _push(cli, hub, executor, *second)
    assert REUSED not in again.err
    assert len({bundle for _, bundle, _ in _builds(hub)}) == 2


def test_changed_content_builds_again(cli: Cli, hub: HubHandle, executor: Path) -> None:
    _push(cli, hub, executor)
    (executor / "notes.txt").write_text("new\n")
    assert REUSED not in _push(cli, hub, executor).err
    assert REUSED in _push(cli, hub, executor).err  # the second build is reused in turn


def test_large_files_the_check_builder_never_reads_are_not_unpacked(
    cli: Cli, hub: HubHandle, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the check builder a model file is a sparse placeholder of its size: the COPY that
    names it still finds it, and nothing of its content is written again."""
    import random

    import hubci.bundle
    from hubci.server.tasks import PLACEHOLDER_BYTES

    (executor / "weights").mkdir()
    (executor / "weights" / "model.bin").write_bytes(random.Random(4).randbytes(3 << 20))
    (executor / "Dockerfile").write_text(
        "FROM jinaai/jina:3-py38-perf\nCOPY . /workdir/\nCOPY weights/model.bin /m.bin\n"
        'ENTRYPOINT ["jina", "executor", "--uses", "config.yml"]\n'
    )
    chosen: list[tuple[str, bool]] = []
    real = hubci.bundle.safe_extract

    def spying(*args: Any, **kwargs: Any) -> list[str]:
        decide = kwargs["placeholder"]
        assert decide is not None

        def recording(rel: str, size: int) -> bool:
            chosen.append((rel, decide(rel, size)))
            return bool(decide(rel, size))

        return real(*args, **{**kwargs, "placeholder": recording})

    monkeypatch.setattr(hubci.bundle, "safe_extract", spying)
    run = _push(cli, hub, executor)
    assert run.out.startswith("succeeded:")
    assert dict(chosen)["weights/model.bin"] is True
    assert dict(chosen)["Dockerfile"] is False
    assert not any(placed for rel, placed in chosen if rel.endswith((".py", ".yml")))
    assert PLACEHOLDER_BYTES < 3 << 20
