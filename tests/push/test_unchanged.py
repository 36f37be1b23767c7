"""Never build the same thing twice: a push whose build the Hub already has uploads nothing."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hubci.hub.records import ExecutorDocument, Package
from hubci.push.unchanged import Verdict, Wanted, decide
from hubci.server.embedded import HubHandle
from tests.push.conftest import TOKEN, USER, Cli

DB_NAME = "hub.db"

MD5 = "636ba70f617abfe44062a5b3ff1367b2"
WANTED = Wanted(
    md5=MD5,
    tags=("v1", "latest"),
    platforms=("linux/amd64",),
    dockerfile=None,
    build_env=(),
    visibility=None,
)


def package(**changes: object) -> Package:
    fields: dict[str, object] = {
        "executor": ExecutorDocument(
            id="abcd1234",
            name="HelloExecutor",
            owner="alice",
            visibility="public",
            tags=("v1", "latest"),
            platforms=("linux/amd64",),
        ),
        "build_id": "b1",
        "md5": MD5,
        "build_env": (),
        "dockerfile": None,
        "dockerfile_known": True,
    }
    fields.update(changes)
    return Package(**fields)  # type: ignore[arg-type]


def both(pkg: Package | None) -> dict[str, Package | None]:
    return {"v1": pkg, "latest": pkg}


def test_same_bundle_and_parameters_under_every_tag_skips() -> None:
    verdict = decide(WANTED, both(package()), "auto")
    assert verdict.skip
    assert verdict.existing is not None
    assert verdict.existing.build_id == "b1"
    assert verdict.reason.startswith("unchanged: tag(s) v1, latest already point at build b1")


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"md5": "0" * 32}, "bundle md5 " + "0" * 32 + " there, " + MD5 + " now"),
        ({"md5": None}, "does not say which bundle"),
        (
            {"executor": ExecutorDocument(id="abcd1234", platforms=("linux/amd64", "linux/arm64"))},
            "platforms linux/amd64,linux/arm64 there, linux/amd64 now",
        ),
        ({"executor": ExecutorDocument(id="abcd1234")}, "does not say which platforms"),
        ({"dockerfile": "Dockerfile.gpu"}, "Dockerfile Dockerfile.gpu there, Dockerfile now"),
        ({"build_env": ("TOKEN",)}, "build envs TOKEN there, none now"),
    ],
)
def test_a_difference_pushes_and_says_which(changed: dict[str, object], reason: str) -> None:
    verdict = decide(WANTED, both(package(**changed)), "auto")
    assert not verdict.skip
    assert reason in verdict.reason


def test_a_new_tag_pushes_though_the_content_is_the_same() -> None:
    verdict = decide(WANTED, {"v1": None, "latest": package()}, "auto")
    assert not verdict.skip
    assert "unchanged, but tag(s) v1 are new" in verdict.reason
    assert decide(WANTED, both(None), "auto").reason == (
        "pushing: the Hub has no build under these tags yet"
    )


def test_build_envs_skip_only_when_asked() -> None:
    wanted = Wanted(**{**WANTED.__dict__, "build_env": ("TOKEN",)})
    found = both(package(build_env=("TOKEN",)))
    auto = decide(wanted, found, "auto")
    assert not auto.skip
    assert "build-env values cannot be compared" in auto.reason
    assert decide(wanted, found, "always").skip


def test_never_and_visibility() -> None:
    assert not decide(WANTED, both(package()), "never").skip
    private = Wanted(**{**WANTED.__dict__, "visibility": "private"})
    assert "visibility public there, private now" in decide(private, both(package()), "auto").reason


def test_a_hub_that_does_not_say_which_dockerfile() -> None:
    """A Hub without ``commitParams.dockerfile`` (as the hosted Hub answered): fine for the
    default Dockerfile, a push for any other."""
    found = both(package(dockerfile_known=False))
    assert decide(WANTED, found, "auto").skip
    gpu = Wanted(**{**WANTED.__dict__, "dockerfile": "Dockerfile.gpu"})
    assert "does not say which Dockerfile" in decide(gpu, found, "auto").reason


def test_the_package_record_trusts_nothing() -> None:
    assert Package.from_json([1]) is None
    hostile = {
        "commit": {"id": 5, "commitParams": {"md5sum": "x" * 32, "buildEnv": ["A"]}},
        "package": {"md5": MD5.upper()},
    }
    pkg = Package.from_json(hostile)
    assert pkg is not None
    assert pkg.md5 == MD5  # the non-hex md5sum is ignored, package.md5 lower-cased
    assert pkg.build_id is None
    assert pkg.build_env is None
    assert not pkg.dockerfile_known
    long = Package.from_json({"commit": {"commitParams": {"dockerfile": "D" * 5000}}})
    assert long is not None
    verdict: Verdict = decide(WANTED, both(long), "auto")
    assert len(verdict.reason) < 400  # no md5 first; and shown values are bounded anyway


# -- against the local Hub ------------------------------------------------------------------


def _args(hub: HubHandle) -> list[str]:
    return ["--hub-url", hub.url, "--token", TOKEN]


def _tasks(hub: HubHandle) -> int:
    """How many pushes the Hub has taken (its task table, read-only)."""
    with closing(sqlite3.connect(f"file:{hub.data_dir / DB_NAME}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])


def test_a_second_push_uploads_nothing(cli: Cli, hub: HubHandle, executor: Path) -> None:
    first = cli("push", str(executor), *_args(hub), "-t", "v1", "--format", "json")
    assert first.code == 0, first.err
    built = json.loads(first.out)
    before = _tasks(hub)
    again = cli("push", str(executor), *_args(hub), "-t", "v1", "--format", "json")
    assert again.code == 0, again.err
    result = json.loads(again.out)
    assert result["status"] == "unchanged"
    assert result["task_id"] is None
    assert isinstance(result["build_id"], str)
    assert result["bundle"] == built["bundle"]
    assert result["executor"]["uri"] == built["executor"]["uri"]
    assert result["executor"]["id"] == built["executor"]["id"]
    assert "unchanged: tag(s) v1 already point at build" in again.err
    assert "upload" not in again.err.replace("uploaded", "")
    assert _tasks(hub) == before  # the Hub got no push at all
    text = cli("push", str(executor), *_args(hub), "-t", "v1")
    assert text.out.startswith(f"unchanged: {USER}/HelloExecutor (")
    assert "(nothing uploaded or built)" in text.out


def test_a_change_or_a_flag_builds_again(cli: Cli, hub: HubHandle, executor: Path) -> None:
    assert cli("push", str(executor), *_args(hub)).code == 0
    count = _tasks(hub)
    forced = cli("push", str(executor), *_args(hub), "--force-build")
    assert forced.out.startswith("succeeded:")
    assert "pushing: --force-build" in forced.err
    no_cache = cli("push", str(executor), *_args(hub), "--no-cache")
    assert no_cache.out.startswith("succeeded:")
    code = executor / "executor" / "hello.py"
    code.write_text(code.read_text() + "\n# v2\n")
    changed = cli("push", str(executor), *_args(hub))
    assert changed.out.startswith("succeeded:")
    assert "pushing: changed since the last build (latest: bundle md5" in changed.err
    assert _tasks(hub) == count + 3
    assert cli("push", str(executor), *_args(hub)).out.startswith("unchanged:")
    new_tag = cli("push", str(executor), *_args(hub), "-t", "latest", "-t", "v9")
    assert new_tag.out.startswith("succeeded:")
    assert "tag(s) v9 are new" in new_tag.err
    arm = cli("push", str(executor), *_args(hub), "--platform", "linux/arm64")
    assert "platforms linux/amd64 there, linux/arm64 now" in arm.err


def test_build_envs_and_private_executors(
    cli: Cli, hub: HubHandle, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (executor / "requirements.txt").write_text("torch==${TORCH_VERSION}\n")
    monkeypatch.setenv("TORCH_VERSION", "2.13.0")
    env = ["--build-env", "TORCH_VERSION", "--private"]
    assert cli("push", str(executor), *_args(hub), *env).code == 0
    auto = cli("push", str(executor), *_args(hub), *env)
    assert auto.out.startswith("succeeded:")
    assert "build-env values cannot be compared" in auto.err
    always = cli("push", str(executor), *_args(hub), *env, "--skip-unchanged", "always")
    assert always.out.startswith("unchanged:"), always.err  # a private one, seen by its owner
    assert "visibility: private" in always.out
    assert "2.13.0" not in always.out + always.err
    public = cli(
        "push", str(executor), *_args(hub), *env[:2], "--public", "--skip-unchanged=always"
    )
    assert "visibility private there, public now" in public.err
    conflict = cli("push", str(executor), *_args(hub), "--force-build", "--skip-unchanged=always")
    assert conflict.code == 2
    assert "contradict" in conflict.err


def test_an_unchanged_folder_is_not_even_zipped_again(
    cli: Cli, hub: HubHandle, executor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second push recognises the folder by its files' stamps (hubci.bundle.known): the
    Hub is asked with the remembered MD5 and nothing is zipped; an edit is zipped and sent."""
    import hubci.bundle
    import hubci.bundle.known

    monkeypatch.setattr(hubci.bundle.known, "RACY_SECONDS", -3600.0)  # files just written
    first = cli("push", str(executor), *_args(hub), "--format", "json")
    assert first.code == 0, first.err
    zipped: list[Path] = []
    real = hubci.bundle.write_bundle

    def counting(fileset: object, dest: Path, **kw: object) -> object:
        zipped.append(dest)
        return real(fileset, dest, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(hubci.bundle, "write_bundle", counting)
    again = cli("push", str(executor), *_args(hub), "--format", "json")
    assert json.loads(again.out)["status"] == "unchanged"
    assert json.loads(again.out)["bundle"] == json.loads(first.out)["bundle"]
    assert "unchanged since this machine zipped them" in again.err
    assert zipped == []
    new_tag = cli("push", str(executor), *_args(hub), "-t", "v7")  # the push goes ahead
    assert new_tag.out.startswith("succeeded:"), new_tag.err
    assert len(zipped) == 1
    code = executor / "executor" / "hello.py"
    code.write_text(code.read_text() + "# edited\n")
    edited = cli("push", str(executor), *_args(hub), "--format", "json")
    assert json.loads(edited.out)["status"] == "succeeded"
    assert json.loads(edited.out)["bundle"]["md5"] != json.loads(first.out)["bundle"]["md5"]
    assert len(zipped) == 2
