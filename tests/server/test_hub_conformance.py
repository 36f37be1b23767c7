"""The unmodified official client (jina-hubble-sdk 0.39.0) against the local Hub.

Each test runs the SDK's real ``push``/``status`` commands in their own venv (testing/hubble.py)
and checks what a user of ``jina hub push`` would see.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle, embedded_hub
from testing.hub import ALICE, ALICE_TOKEN, TEST_BUILD_SECONDS, USERS
from testing.hubble import hubble_python, official_env, run_official

from .helpers import executor_files, tasks, write

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def official_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubHandle]:
    hubble_python()  # create the venv (once per machine) before any timing-sensitive step
    folder = tmp_path_factory.mktemp("conformance-hub")
    with embedded_hub(data_dir=folder, users=USERS, build_seconds=TEST_BUILD_SECONDS) as hub:
        yield hub


class Client:
    def __init__(self, hub: HubHandle, home: Path) -> None:
        self.hub = hub
        self.home = home
        self.env = official_env(hub.url, ALICE_TOKEN, home)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_official(list(args), env=self.env, cwd=self.home)


@pytest.fixture
def client(official_hub: HubHandle, tmp_path: Path) -> Iterator[Client]:
    home = tmp_path / "home"
    home.mkdir()
    yield Client(official_hub, home)
    official_hub.clear_faults()


def folder_for(tmp_path: Path, name: str, **extra: str) -> Path:
    return write(tmp_path / name, executor_files(name, **extra))


def published_id(out: str) -> str:
    found = re.search(r"https://cloud\.jina\.ai/executor/([a-z0-9]{8})/", out)
    assert found, out
    return found.group(1)


def failure(done: subprocess.CompletedProcess[str], *, from_server: bool = True) -> str:
    """The message the client raised (the end of its traceback, maybe several lines)."""
    assert done.returncode != 0, done.stdout
    assert "\nException: " in done.stderr, done.stderr[-2000:]
    message = done.stderr.rsplit("\nException: ", 1)[1]
    assert ("session_id:" in message) is from_server  # server errors quote the session
    return message


def test_public_push_prints_name_id_and_usage(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "PublicOne")
    done = client("push", str(folder), "--public", "-t", "v1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "PublicOne" in out
    assert "public" in out
    uuid8 = published_id(out)
    assert f"jinaai+docker://{ALICE}/PublicOne:v1" in out
    assert f"jinaai://{ALICE}/PublicOne:v1" in out
    task = tasks(client.hub.url, "PublicOne")[0]
    assert task["status"] == "succeeded"
    assert task["data"]["executor"] == uuid8
    meta = task["data"]["jinaEnv"]["meta"]
    assert meta["jina-hubble-sdk"] == "0.39.0"
    assert task["traceId"]  # the client's session id


def test_private_push(client: Client, tmp_path: Path) -> None:
    done = client("push", str(folder_for(tmp_path, "PrivateOne")), "--private")
    assert done.returncode == 0, done.stderr
    assert "private" in done.stdout
    assert f"jinaai+docker://{ALICE}/PrivateOne:latest" in done.stdout


def test_force_update_with_secret(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "Updatable")
    first = client("push", str(folder))
    assert first.returncode == 0, first.stderr
    uuid8 = published_id(first.stdout)
    update = client("push", str(folder), "--force-update", "Updatable", "--secret", "S3cret-x")
    assert update.returncode == 0, update.stderr
    assert published_id(update.stdout) == uuid8
    assert "S3cret-x" in update.stdout  # the client prints the secret it used
    again = client("push", str(folder), "--force-update", uuid8, "--secret", "S3cret-x")
    assert again.returncode == 0, again.stderr
    wrong = client("push", str(folder), "--force-update", "Updatable", "--secret", "other")
    assert "The secret does not match executor 'Updatable'" in failure(wrong)


def test_tags_and_protected_tags(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "Tagged")
    done = client("push", str(folder), "-t", "v1", "-t", "latest", "--protected-tag", "1.0.0")
    assert done.returncode == 0, done.stderr
    assert f"jinaai+docker://{ALICE}/Tagged:v1" in done.stdout
    assert tasks(client.hub.url, "Tagged")[0]["data"]["immutableCommitTags"] == ["1.0.0"]
    again = client("push", str(folder), "--protected-tag", "1.0.0")
    assert "tag `1.0.0` is protected and already exists" in failure(again)
    bad = client("push", str(folder), "-t", "v 1")
    assert "Invalid tag 'v 1'" in failure(bad)
    assert len(tasks(client.hub.url, "Tagged")) == 1


def test_build_env(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "WithEnv", **{"requirements.txt": "numpy==${NUMPY_VERSION}\n"})
    missing = client("push", str(folder))
    assert "--build-env NUMPY_VERSION=YOUR_VALUE" in failure(missing, from_server=False)
    assert tasks(client.hub.url, "WithEnv") == []  # refused by the client, nothing sent
    done = client("push", str(folder), "--build-env", "NUMPY_VERSION=1.26.4", "--verbose")
    assert done.returncode == 0, done.stderr
    assert "ARG NUMPY_VERSION" in done.stdout  # the generated Dockerfile, shown as a build step
    assert "1.26.4" not in done.stdout
    task = tasks(client.hub.url, "WithEnv")[0]
    assert task["data"]["buildParams"]["buildSecrets"] == ["NUMPY_VERSION"]


def test_multi_platform_push(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "Multi")
    done = client("push", str(folder), "--platform", "linux/amd64,linux/arm64", "--verbose")
    assert done.returncode == 0, done.stderr
    assert "Sending build context to Docker daemon for linux/amd64" in done.stdout
    assert "Sending build context to Docker daemon for linux/arm64" in done.stdout
    task = tasks(client.hub.url, "Multi")[0]
    assert task["data"]["buildParams"]["platforms"] == ["linux/amd64", "linux/arm64"]
    bad = client("push", str(folder), "--platform", "windows/amd64")
    assert "unknown platform 'windows/amd64'" in failure(bad)


def test_a_failing_build(client: Client, tmp_path: Path) -> None:
    client.hub.add_fault("fail-build:linux/amd64")
    done = client("push", str(folder_for(tmp_path, "Broken")))
    assert "Failed on building Docker image" in failure(done)
    assert tasks(client.hub.url, "Broken")[0]["status"] == "failed"


def test_bundles_the_normalizer_rejects(client: Client, tmp_path: Path) -> None:
    mismatch = folder_for(tmp_path, "Mismatch")
    (mismatch / "config.yml").write_text(
        "jtype: NotThere\nmetas:\n  name: Mismatch\n  py_modules: [executor.py]\n"
    )
    done = client("push", str(mismatch))
    assert "We can not discover any Executor in your uploaded bundle" in failure(done)
    two = folder_for(tmp_path, "Two")
    (two / "config.yml").unlink()
    (two / "manifest.yml").write_text("name: Two\n")
    (two / "second.py").write_text(
        "from jina import Executor\n\nclass Second(Executor):\n    pass\n"
    )
    done = client("push", str(two))
    assert "We found more than one Executor in the bundle" in failure(done)


def test_status_replay_shows_the_whole_history(client: Client, tmp_path: Path) -> None:
    folder = folder_for(tmp_path, "Followed")
    assert client("push", str(folder), "-t", "v7").returncode == 0
    task_id = tasks(client.hub.url, "Followed")[0]["_id"]
    done = client("status", "--id", task_id, "--replay", "--verbose")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Cloud pending ... : report {task_id} (pending)" in out
    for subject in ("extractZip", "normalize", "buildWorkspace", "pushImage"):
        assert f"{subject}: start" in out
        assert f"{subject}: done" in out
    assert "Step 1/" in out
    assert "(succeeded)" in out
    assert f"jinaai+docker://{ALICE}/Followed:v7" in out
    by_path = client("status", str(folder))
    assert by_path.returncode == 0, by_path.stderr
    assert f"Found task_id: {task_id} for Followed" in by_path.stdout


def test_status_of_a_failed_build_exits_non_zero(client: Client, tmp_path: Path) -> None:
    client.hub.add_fault("fail-build:linux/amd64")
    folder = folder_for(tmp_path, "FailedStatus")
    assert client("push", str(folder)).returncode != 0
    task_id = tasks(client.hub.url, "FailedStatus")[0]["_id"]
    done = client("status", "--id", task_id, "--replay")
    assert "returned a non-zero code: 1" in failure(done)


def test_a_bad_token_is_refused(client: Client, tmp_path: Path) -> None:
    client.env["JINA_AUTH_TOKEN"] = "not-a-token-of-this-hub"
    done = client("push", str(folder_for(tmp_path, "Anon")))
    assert done.returncode != 0
    assert "AuthenticationRequiredError" in done.stderr


def test_a_named_dockerfile_and_no_cache(client: Client, tmp_path: Path) -> None:
    folder = folder_for(
        tmp_path,
        "Gpu",
        **{"Dockerfile.gpu": "FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04\nCOPY . /workspace\n"},
    )
    done = client(
        "push", str(folder), "-f", str(folder / "Dockerfile.gpu"), "--no-cache", "--verbose"
    )
    assert done.returncode == 0, done.stderr
    assert "Step 1/2 : FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04" in done.stdout
    params = tasks(client.hub.url, "Gpu")[0]["data"]["buildParams"]
    assert params["dockerfile"] == "Dockerfile.gpu"
    assert params["noCache"] is True


@pytest.mark.parametrize(
    ("visibility", "with_config"),
    [("--public", True), ("--private", True), ("--public", False)],
)
def test_the_owner_pulls_what_was_pushed(
    client: Client, tmp_path: Path, visibility: str, with_config: bool
) -> None:
    """``jina hub pull`` of the owner's executor: a private one comes through a signed link
    (the SDK downloads ``package.download`` without a token), and one pushed without
    config.yml comes with the config.yml the Hub generated for its build."""
    name = f"Pulled{visibility.strip('-').title()}{'' if with_config else 'Bare'}"
    # a requirement the SDK's venv has, so the pull's dependency check passes
    folder = folder_for(tmp_path, name, **{"requirements.txt": "requests\n"})
    if with_config:
        pushed = client("push", str(folder), visibility)
    else:  # the official client refuses a folder without config.yml; hubci pushes it
        (folder / "config.yml").unlink()
        pushed = subprocess.run(
            [
                *(sys.executable, "-m", "hubci", "push", str(folder), "--name", name),
                *(visibility, "--hub-url", client.hub.url, "--token", ALICE_TOKEN),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    pulled = client("pull", f"jinaai://{ALICE}/{name}")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    unpacked = list((client.home / ".cache" / "jina" / "hub-package").rglob("config.yml"))
    assert unpacked, pulled.stdout + pulled.stderr
    assert any(f"jtype: {name}" in path.read_text() for path in unpacked)
