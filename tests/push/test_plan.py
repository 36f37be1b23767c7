"""Plan resolution: flags + environment resolved once, with one-line errors that say what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hubci.errors import ConfigError, UsageError
from hubci.push.plan import PushOptions, resolve_plan
from hubci.secret import Secret

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-executor"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(EXAMPLE, dest)
    return dest


def _plan(folder: Path, env: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return resolve_plan(PushOptions(path=folder, **kw), env or {}, cwd=folder.parent)  # type: ignore[arg-type]


def test_defaults(folder: Path) -> None:
    plan = _plan(folder)
    assert plan.name == "HelloExecutor"
    assert plan.name_source == "metas.name"
    assert plan.hub.url == "https://api.hubble.jina.ai"
    assert plan.hub.source == "default"
    assert plan.token is None
    assert plan.timeout == 3600
    assert plan.visibility is None
    assert plan.secret is None


def test_hub_url_precedence(folder: Path) -> None:
    env = {"JINA_HUBBLE_REGISTRY": "http://127.0.0.1:9/"}
    assert _plan(folder, env).hub.url == "http://127.0.0.1:9"
    assert _plan(folder, env, hub_url="http://127.0.0.1:8").hub.url == "http://127.0.0.1:8"
    local = _plan(folder, env, hub="local")
    assert local.hub.local
    assert local.local_data_dir is not None
    with pytest.raises(UsageError, match="both name a Hub"):
        _plan(folder, hub="local", hub_url="http://127.0.0.1:8")
    with pytest.raises(UsageError, match="not an http"):
        _plan(folder, hub_url="ftp://x")
    with pytest.raises(UsageError, match="credentials"):
        _plan(folder, hub_url="https://user:pw@example.org")


def test_token_precedence(folder: Path, tmp_path: Path) -> None:
    root = tmp_path / "jina"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auth_token": "from-file"}))
    env = {"JINA_HUB_ROOT": str(root)}
    plan = _plan(folder, env)
    assert plan.token == Secret("from-file")
    assert plan.token_source.endswith("config.json")
    plan = _plan(folder, {**env, "JINA_AUTH_TOKEN": "from-env"})
    assert plan.token == Secret("from-env")
    assert plan.token_source == "JINA_AUTH_TOKEN"
    plan = _plan(folder, {**env, "JINA_AUTH_TOKEN": "from-env"}, token="from-flag")
    assert plan.token == Secret("from-flag")
    assert "from-flag" not in repr(plan)


def test_a_broken_token_file_is_not_echoed(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auth_token": "SENTINEL-TOKEN"')
    with pytest.raises(ConfigError) as info:
        _plan(folder, {"JINA_HUB_ROOT": str(tmp_path)})
    assert "SENTINEL" not in info.value.format_message()


def test_build_env_forms(folder: Path) -> None:
    plan = _plan(folder, {"FROM_ENV": "v=1"}, build_env=("A=x=y", "FROM_ENV", "EMPTY="))
    assert {k: v.reveal() for k, v in plan.build_env.items()} == {
        "A": "x=y",
        "FROM_ENV": "v=1",
        "EMPTY": "",
    }
    assert sorted(plan.secrets()) == ["v=1", "x=y"]


def test_build_env_errors_never_echo_values(folder: Path) -> None:
    with pytest.raises(UsageError, match="not a valid build-env name") as info:
        _plan(folder, build_env=("lower=SENTINEL",))
    assert "SENTINEL" not in info.value.format_message()
    with pytest.raises(UsageError, match="MISSING is not set"):
        _plan(folder, build_env=("MISSING",))


def test_secret_rules(folder: Path) -> None:
    with pytest.raises(UsageError, match="only applies to --force-update"):
        _plan(folder, secret="s")
    with pytest.raises(UsageError, match="needs the executor's secret"):
        _plan(folder, force_update="abcd1234")
    plan = _plan(folder, {"HUBCI_SECRET": "from-env"}, force_update="abcd1234")
    assert plan.secret == Secret("from-env")
    assert plan.name == "abcd1234"
    assert _plan(folder, {"HUBCI_SECRET": "ignored"}).secret is None


def test_dockerfile_resolution(folder: Path) -> None:
    (folder / "Dockerfile.gpu").write_text("FROM x\n")
    (folder / "docker").mkdir()
    (folder / "docker" / "Dockerfile").write_text("FROM x\n")
    assert _plan(folder, dockerfile="Dockerfile.gpu").dockerfile == "Dockerfile.gpu"
    assert _plan(folder, dockerfile="hello/docker/Dockerfile").dockerfile == "docker/Dockerfile"
    outside = folder.parent / "Dockerfile.out"
    outside.write_text("FROM x\n")
    with pytest.raises(UsageError, match="outside"):
        _plan(folder, dockerfile=str(outside))
    with pytest.raises(UsageError, match="does not exist"):
        _plan(folder, dockerfile="nope")


def test_tags_platforms_and_names(folder: Path) -> None:
    plan = _plan(folder, tags=("v1", "latest,v1"), platform="linux/amd64, linux/arm64")
    assert plan.tags == ("v1", "latest")
    assert plan.platforms == ("linux/amd64", "linux/arm64")
    with pytest.raises(UsageError, match="not a valid Hub tag"):
        _plan(folder, tags=("a:b",))
    with pytest.raises(UsageError, match="unknown platform"):
        _plan(folder, platform="windows/amd64")
    with pytest.raises(UsageError, match="not a valid executor name"):
        _plan(folder, name="bad name")
    assert _plan(folder, name="Other").name == "Other"


def test_missing_folder_and_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        _plan(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="cannot tell the executor's name"):
        _plan(tmp_path / "empty")


def _git(folder: Path, *args: str) -> None:
    import subprocess

    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "PATH": "/usr/bin:/bin", "HOME": str(folder),
    }  # fmt: skip
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def test_tag_rules_from_git_with_their_origins(folder: Path) -> None:
    from hubci.tags import TagOptions

    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-qm", "c")
    _git(folder, "tag", "v1.2.3")
    rules = TagOptions(
        tags_rules="type=semver,pattern={{major}}.{{minor}}",
        protected_rules="type=semver,pattern={{version}}",
        ref="refs/tags/v1.2.3",
    )
    plan = _plan(folder, tags=("extra",), tag_rules=rules)
    assert plan.tags == ("1.2", "latest", "extra")
    assert plan.protected_tags == ("1.2.3",)
    origins = dict(plan.tag_origins)
    assert "--tags line 1" in origins["1.2"]
    assert origins["extra"] == "-t/--tag"
    assert "--protected-tags line 1" in origins["1.2.3"]
    no_match = TagOptions(tags_rules="type=semver,pattern={{version}}", ref="refs/heads/dev")
    with pytest.raises(UsageError, match="gave no tag"):
        _plan(folder, tag_rules=no_match)


def test_explicit_tags_only(folder: Path) -> None:
    plan = _plan(folder, tags=("v1",), protected_tags=("v1",))
    assert plan.tags == ()
    assert plan.protected_tags == ("v1",)
    assert dict(plan.tag_origins) == {"v1": "--protected-tag"}
