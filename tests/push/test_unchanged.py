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
    owner="alice",
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
            {
                "executor": ExecutorDocument(
                    id="abcd1234", owner="alice", platforms=("linux/amd64", "linux/arm64")
                )
            },
            "platforms linux/amd64,linux/arm64 there, linux/amd64 now",
        ),
        (
            {"executor": ExecutorDocument(id="abcd1234", owner="alice")},
            "does not say which platforms",
        ),
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


def test_what_the_hub_does_not_say_is_never_taken_as_the_same() -> None:
    """A Hub without ``commitParams.dockerfile`` (as the hosted Hub answered) or build-env
    names: the build may have used another Dockerfile, so the push goes ahead."""
    assert (
        "does not say which Dockerfile"
        in decide(WANTED, both(package(dockerfile_known=False)), "auto").reason
    )
    assert (
        "does not say which build envs"
        in decide(WANTED, both(package(build_env=None)), "auto").reason
    )


def test_only_the_pushers_own_executor_counts() -> None:
    """A bare NAME may resolve to someone else's public executor; --force-update names one."""
    theirs = package(
        executor=ExecutorDocument(id="zzzz9999", owner="bob", platforms=("linux/amd64",))
    )
    assert "bob's executor, not yours" in decide(WANTED, both(theirs), "auto").reason
    anonymous = Wanted(**{**WANTED.__dict__, "owner": None})
    assert not decide(anonymous, both(package()), "auto").skip
    other = Wanted(**{**WANTED.__dict__, "executor_id": "qqqq0000"})
    assert "answered with executor abcd1234" in decide(other, both(package()), "auto").reason
    same = Wanted(**{**WANTED.__dict__, "executor_id": "abcd1234"})
    assert decide(same, both(package()), "always").skip


def test_a_generated_dockerfile_depends_on_the_clients_python() -> None:
    generated = Wanted(**{**WANTED.__dict__, "generated_dockerfile": True, "python": "3.12.1"})
    made = package(python="3.10.4", jina=None, versions_known=True)
    assert "made for Python 3.10.4, now 3.12.1" in decide(generated, both(made), "auto").reason
    assert "does not say which Python" in decide(generated, both(package()), "auto").reason
    same = package(python="3.12.1", jina=None, versions_known=True)
    assert decide(generated, both(same), "auto").skip
    assert decide(WANTED, both(made), "auto").skip  # its own Dockerfile: versions do not matter


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
