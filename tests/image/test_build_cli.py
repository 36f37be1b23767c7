"""``hubci build`` end to end against a real Engine API: validate, normalize, build, clean up."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testing.engine import normalize_ref

pytestmark = pytest.mark.docker

SECRET = "pw-1a2b3c4d5e6f"


def _images(client: Any, repo: str) -> list[str]:
    return sorted(
        normalize_ref(tag)
        for image in client.images.list()
        for tag in image.tags
        if normalize_ref(tag).startswith(repo + ":")
    )


def test_json_build_of_two_platforms_then_images_removed(
    docker_host: str,
    docker_client: Any,
    scratch_executor: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    args = ["build", str(scratch_executor), "--platform", "linux/amd64,linux/arm64"]
    result = run_hubci([*args, "--format", "json"])
    assert result.code == 0, result.err
    document = json.loads(result.out)  # stdout is exactly the JSON document
    assert document["status"] == "succeeded"
    assert [b["platform"] for b in document["builds"]] == ["linux/amd64", "linux/arm64"]
    for build in document["builds"]:
        assert set(build) == {"platform", "image_id", "tags", "size", "duration_s", "error"}
        assert build["error"] is None
        assert build["image_id"].startswith("sha256:")
        assert build["tags"] == [f"hubci/scratchexecutor:{build['platform'].replace('/', '-')}"]
        assert build["size"] > 0
    assert "[linux/arm64] STEP 1/7: FROM scratch" in result.err  # the log went to stderr
    assert "built without cache" in result.err
    assert _images(docker_client, "hubci/scratchexecutor") == []  # removed without --keep


def test_keep_leaves_the_image_with_its_tag(
    docker_host: str,
    docker_client: Any,
    scratch_executor: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    result = run_hubci(["build", str(scratch_executor), "--keep", "--no-cache"])
    try:
        assert result.code == 0, result.err
        assert "STEP 1/7: FROM scratch" in result.out
        assert "build succeeded for linux/amd64" in result.out
        assert _images(docker_client, "hubci/scratchexecutor") == [
            "hubci/scratchexecutor:linux-amd64"
        ]
        image = docker_client.images.get("hubci/scratchexecutor:linux-amd64")
        assert image.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
    finally:
        docker_client.images.remove("hubci/scratchexecutor:linux-amd64", force=True)


def test_failing_dockerfile_exits_1_naming_the_step(
    docker_host: str,
    make_executor: Callable[..., Path],
    tmp_path: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    folder = make_executor(
        tmp_path / "ex", "FROM scratch\nCOPY config.yml /c.yml\nCOPY nothere.txt /n.txt\n"
    )
    result = run_hubci(["build", str(folder), "--format", "json"])
    assert result.code == 1, result.err
    document = json.loads(result.out)
    assert document["status"] == "failed"
    (build,) = document["builds"]
    assert build["image_id"] is None
    assert build["tags"] == [], "a failed build names no image"
    assert build["error"].startswith("step 3/3 `COPY nothere.txt /n.txt` failed:")
    assert (
        result.err.strip()
        .splitlines()[-1]
        .startswith("hubci: error: the image build failed for linux/amd64")
    )


def test_only_the_bundle_files_reach_the_build(
    docker_host: str,
    make_executor: Callable[..., Path],
    tmp_path: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    """A file the bundle ignores is not in the context, exactly as on the Hub."""
    folder = make_executor(
        tmp_path / "ex",
        "FROM scratch\nCOPY local.cfg /local.cfg\n",
        **{"local.cfg": "not bundled\n", ".gitignore": "local.cfg\n"},
    )
    result = run_hubci(["build", str(folder)])
    assert result.code == 1, result.out + result.err
    assert "step 2/2 `COPY local.cfg /local.cfg` failed" in result.out


def test_build_env_value_never_printed(
    docker_host: str,
    make_executor: Callable[..., Path],
    tmp_path: Path,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    folder = make_executor(
        tmp_path / "ex",
        "FROM scratch\nARG PRIVATE_TOKEN\nLABEL leak=$PRIVATE_TOKEN\n",
        **{"requirements.txt": "private-pkg @ https://${PRIVATE_TOKEN}@example.invalid/p.tgz\n"},
    )
    result = run_hubci(["build", str(folder), "--build-env", f"PRIVATE_TOKEN={SECRET}"])
    assert result.code == 1
    assert "build env PRIVATE_TOKEN is baked into the image label leak" in result.out
    assert SECRET not in result.out + result.err


def test_validation_errors_exit_2_before_the_engine(
    make_executor: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_hubci: Callable[[list[str]], Any],
) -> None:
    """A build env requirements.txt needs but not given: exit 2, even with no Engine at all."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    folder = make_executor(
        tmp_path / "ex",
        **{"requirements.txt": "private-pkg @ https://${PRIVATE_TOKEN}@example.invalid/p.tgz\n"},
    )
    result = run_hubci(["build", str(folder)])
    assert result.code == 2, result.err
    assert "PRIVATE_TOKEN" in result.err
    assert "nothing was built" in result.err


def test_bad_options_exit_2(scratch_executor: Path, run_hubci: Callable[[list[str]], Any]) -> None:
    result = run_hubci(["build", str(scratch_executor), "--platform", "linux/mips"])
    assert result.code == 2
    assert "unknown platform 'linux/mips'" in result.err
    result = run_hubci(["build", str(scratch_executor), "--build-env", "bad-name=1"])
    assert result.code == 2
    assert "not a valid build-env name" in result.err
