"""What is pushed into a self-hosted Hub is used by jina 3.34 and the official client, with the
images pulled from a real registry into an empty Engine.

The stack (testing/registry.py ``start_stack``): ``hubci hub serve --builder docker --registry``,
a distribution registry whose ``auth: token`` trusts the Hub, the Engine the Hub builds with
(holding the stand-in of jina's image the generated Dockerfiles build on) and an empty Engine for
the consumers. Four executors cover the matrix (``CASES``): public and private, each once
**without** ``config.yml`` or a Dockerfile (the Hub generates both), pushed by ``hubci push``, and
once **with** ``config.yml``, pushed by the official client's ``jina hub push``. Public ones are
used anonymously, private ones by their owner after ``jina auth login`` (Docker's credential
helper for the registry).

Each is used as source (``Executor.from_hub``, ``jina hub pull jinaai://``) and as an image
(``Flow().add(uses='jinaai+docker://…')``, ``jina hub pull jinaai+docker://``); every answer
carries the executor's own mark and the folder its code was loaded from.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubci.normalize.dockerfile import base_image
from testing.engine import EngineStartError, unavailable
from testing.hub import ALICE, ALICE_TOKEN, BOB_TOKEN, USERS
from testing.hubble import hubble_python, official_env, run_official
from testing.jina import (
    FLOW,
    FROM_HUB,
    IMAGE,
    MARKING_EXECUTOR,
    JinaSetupError,
    answered,
    build_jina_standin,
    jina_env,
    jina_python,
    run_jina,
)
from testing.registry import HubStack, RegistryStartError, start_stack

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(1500)]

LOGIN = """
import sys
from jina_cli import main

sys.argv = ["jina", "auth", "login"]
main()
"""


@dataclass(frozen=True)
class Pushed:
    name: str
    executor_id: str
    mark: str
    private: bool


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, registry_binary: str, jina_venv: Path
) -> Iterator[HubStack]:
    del registry_binary, jina_venv  # their checks, and the venv made before the clock runs
    try:
        started = start_stack(tmp_path_factory.mktemp("consumers"), USERS, driver="overlay")
    except EngineStartError as exc:
        unavailable(str(exc))
    except RegistryStartError as exc:
        pytest.fail(str(exc))
    try:
        client = started.builds.client()
        try:
            build_jina_standin(client)
            # hubci and the official client run without jina: for their pushes the Hub's
            # Dockerfile names jina's `master` image
            repository, _, tag = base_image(None, platform.python_version()).rpartition(":")
            client.api.tag(IMAGE, repository, tag)
        finally:
            client.close()
    except JinaSetupError as exc:
        started.stop()
        pytest.fail(str(exc))
    yield started
    started.stop()


def _executor(folder: Path, cls: str, mark: str, *, config: bool) -> Path:
    folder.mkdir(parents=True)
    (folder / "executor.py").write_text(
        MARKING_EXECUTOR.format(cls=cls, mark=mark), encoding="utf-8"
    )
    (folder / "README.md").write_text(f"# {cls}\n", encoding="utf-8")
    if config:
        text = f"jtype: {cls}\npy_modules:\n  - executor.py\nmetas:\n  name: {cls}\n"
        (folder / "config.yml").write_text(text, encoding="utf-8")
    return folder


#: (visibility, with config.yml, pushed by): every visibility and layout, each pusher
CASES = {
    "public-no-config-hubci": ("public", False, "hubci"),
    "private-no-config-hubci": ("private", False, "hubci"),
    "public-config-official": ("public", True, "official"),
    "private-config-official": ("private", True, "official"),
}


def _push(stack: HubStack, root: Path, case: str) -> Pushed:
    visibility, config, pusher = CASES[case]
    cls = "".join(part.title() for part in case.split("-"))
    mark = uuid.uuid4().hex
    folder = _executor(root / "ex", cls, mark, config=config)
    if pusher == "hubci":
        cmd = [sys.executable, "-m", "hubci", "push", str(folder), f"--{visibility}", "-t", "v1"]
        done = subprocess.run(
            [*cmd, "--hub-url", stack.hub.url, "--token", ALICE_TOKEN],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr + stack.hub.stderr()[-3000:]
        found = re.search(rf"succeeded: {ALICE}/{cls} \(([a-z0-9]{{8}})\)", done.stdout)
    else:
        home = root / "home"
        home.mkdir()
        env = official_env(stack.hub.url, ALICE_TOKEN, home)
        args = ["push", str(folder), f"--{visibility}", "-t", "v1"]
        done = run_official(args, env=env, cwd=home)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        found = re.search(r"/executor/([a-z0-9]{8})/", done.stdout)
    assert found, done.stdout
    return Pushed(cls, found.group(1), mark, visibility == "private")


@pytest.fixture(scope="module")
def pushes(stack: HubStack, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Pushed]:
    """The executor of a case, pushed on first use (once per module)."""
    made: dict[str, Pushed] = {}

    def get(case: str) -> Pushed:
        if case not in made:
            made[case] = _push(stack, tmp_path_factory.mktemp(case), case)
        return made[case]

    return get


@pytest.fixture(params=list(CASES))
def pushed(request: pytest.FixtureRequest, pushes: Callable[[str], Pushed]) -> Pushed:
    case: str = request.param
    return pushes(case)


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def _consumer_env(stack: HubStack, token: str | None, home: Path) -> dict[str, str]:
    """jina's environment against the stack, its containers in the empty Engine; with a
    token, ``jina auth login`` has named the client's credential helper for the registry."""
    env = jina_env(stack.hub.url, token, home)
    env["DOCKER_HOST"] = stack.consumer.url
    venv_bin = jina_python().parent
    env["PATH"] = f"{venv_bin}{os.pathsep}{env['PATH']}"  # docker-credential-jina-hubble
    if token is not None:  # `jina auth login`, as a team member runs it
        login = run_jina(LOGIN, env, timeout=120)
        assert login.returncode == 0, login.stdout + login.stderr
        config = json.loads((home / ".docker" / "config.json").read_text(encoding="utf-8"))
        assert config["credHelpers"] == {stack.registry.host: "jina-hubble"}
    return env


def test_executor_from_hub_loads_the_package_the_hub_built(
    pushed: Pushed, stack: HubStack, tmp_path: Path
) -> None:
    token = ALICE_TOKEN if pushed.private else None
    home = _home(tmp_path)
    script = FROM_HUB.format(uri=f"jinaai://{ALICE}/{pushed.name}:v1")
    done = run_jina(script, jina_env(stack.hub.url, token, home), timeout=300)
    package = home / ".cache" / "jina" / "hub-package" / pushed.executor_id
    assert answered(done) == [f"{pushed.mark}|{package}|one", f"{pushed.mark}|{package}|two"]
    # what the Hub generated for a bundle without one came with the package
    assert (package / "config.yml").is_file()


def test_a_flow_runs_the_image_pulled_from_the_registry(
    pushed: Pushed, stack: HubStack, tmp_path: Path
) -> None:
    token = ALICE_TOKEN if pushed.private else None
    env = _consumer_env(stack, token, _home(tmp_path))
    script = FLOW.format(uses=f"jinaai+docker://{ALICE}/{pushed.name}:v1")
    done = run_jina(script, env, timeout=600, containers=True)
    assert answered(done) == [f"{pushed.mark}|/workspace|one", f"{pushed.mark}|/workspace|two"]
    client = stack.consumer.client()
    try:
        reference = f"{stack.registry.host}/jinahub/{pushed.executor_id}:v1"
        assert client.images.get(reference) is not None  # pulled from the registry
    finally:
        client.close()


def test_another_account_can_neither_load_nor_pull_a_private_executor(
    stack: HubStack, pushes: Callable[[str], Pushed], tmp_path: Path
) -> None:
    private_configured = pushes("private-config-official")
    env = _consumer_env(stack, BOB_TOKEN, _home(tmp_path))
    script = FLOW.format(uses=f"jinaai+docker://{ALICE}/{private_configured.name}:v1")
    done = run_jina(script, env, timeout=300, containers=True)
    assert done.returncode != 0
    assert "RESULT" not in done.stdout
    assert f"Executor '{ALICE}/{private_configured.name}' not found" in done.stderr, done.stderr
    # and the registry itself, asked for the image by someone who knows its name
    import docker.errors

    reference = f"{stack.registry.host}/jinahub/{private_configured.executor_id}:v1"
    client = stack.consumer.client()
    try:
        try:
            client.images.remove(reference, force=True)  # a pull must ask the registry
        except docker.errors.ImageNotFound:
            pass
        with pytest.raises(docker.errors.APIError):
            client.images.pull(reference, auth_config={"username": "x", "password": BOB_TOKEN})
    finally:
        client.close()


def test_the_official_client_pulls_source_and_image(
    pushed: Pushed, stack: HubStack, tmp_path: Path
) -> None:
    python = hubble_python()
    home = _home(tmp_path)
    private = pushed.private
    env = official_env(stack.hub.url, ALICE_TOKEN if private else None, home)
    env["DOCKER_HOST"] = stack.consumer.url
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    if private:
        login = subprocess.run(
            [str(python), "-m", "hubble", "login"], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert login.returncode == 0, login.stdout + login.stderr
    uri = f"{ALICE}/{pushed.name}:v1"
    source = run_official(["pull", f"jinaai://{uri}"], env=env, cwd=home)
    assert source.returncode == 0, source.stdout[-2000:] + source.stderr[-2000:]
    package = home / ".cache" / "jina" / "hub-package" / pushed.executor_id
    assert pushed.mark in (package / "executor.py").read_text(encoding="utf-8")
    assert (package / "config.yml").is_file()
    image = run_official(["pull", f"jinaai+docker://{uri}"], env=env, cwd=home)
    assert image.returncode == 0, image.stdout[-2000:] + image.stderr[-2000:]
    client = stack.consumer.client()
    try:
        reference = f"{stack.registry.host}/jinahub/{pushed.executor_id}:v1"
        found = client.images.get(reference)  # the client says "done" even when it failed
        assert found.attrs["Config"]["Entrypoint"] == ["jina", "executor", "--uses", "config.yml"]
    finally:
        client.close()
