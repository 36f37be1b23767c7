"""jina 3.34 itself as a consumer of the local Hub (testing/jina.py).

An executor pushed with ``hubci push`` to a Hub with the check builder is loaded by
``Executor.from_hub`` and served by a ``Flow`` with ``uses='jinaai://…'``; an image built FROM
the jina stand-in with the Hub's generated Dockerfile is served by a ``Flow`` with
``uses='docker://…'`` from the test engine. Each executor writes a mark of its own test and the
folder its code was loaded from into every document, so a test sees where its answer came from.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubci.normalize.dockerfile import generated_dockerfile
from hubci.server.embedded import HubHandle
from testing.engine import EngineService
from testing.hub import ALICE, ALICE_TOKEN
from testing.jina import IMAGE, JINA_VERSION, jina_env, run_jina

from .helpers import write

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the venv, on a cold machine

EXECUTOR_PY = """
import os

from jina import Executor, requests


class MyExec(Executor):
    @requests
    def mark(self, docs, **kwargs):
        where = os.path.dirname(os.path.abspath(__file__))
        for doc in docs:
            doc.text = "{mark}|" + where + "|" + doc.text
        return docs
"""
CONFIG_YML = "jtype: MyExec\npy_modules:\n  - executor.py\n"

#: two documents for an executor; the snippets below print the texts it answered as one JSON line
DOCS = """
import json
from docarray import DocList
from docarray.documents import TextDoc

docs = DocList[TextDoc]([TextDoc(text="one"), TextDoc(text="two")])
"""
FROM_HUB = (
    DOCS
    + """
from jina import Executor

executor = Executor.from_hub("{uri}")
answer = executor.mark(docs=docs)
print("RESULT " + json.dumps([doc.text for doc in answer]))
"""
)
FLOW = (
    DOCS
    + """
from jina import Flow

flow = Flow().add(uses="{uses}")
with flow:
    answer = flow.post("/", inputs=docs, return_type=DocList[TextDoc])
print("RESULT " + json.dumps([doc.text for doc in answer]))
"""
)


def executor(folder: Path, mark: str) -> Path:
    return write(
        folder,
        {"config.yml": CONFIG_YML, "executor.py": EXECUTOR_PY.format(mark=mark), "README.md": "x"},
    )


def push(hub: HubHandle, folder: Path, name: str, *args: str) -> str:
    """``hubci push`` as alice; the executor's id."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "hubci", "push", str(folder), "--name", name, *args),
            *("--hub-url", hub.url, "--token", ALICE_TOKEN),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(rf"succeeded: {ALICE}/{name} \(([a-z0-9]{{8}})\)", done.stdout)
    assert found, done.stdout
    return found.group(1)


def answer_of(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, (done.stdout + done.stderr)[-4000:]
    texts = json.loads(lines[0][len("RESULT ") :])
    assert isinstance(texts, list)
    return [str(text) for text in texts]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_executor_from_hub(
    jina_venv: Path, module_hub: HubHandle, tmp_path: Path, home: Path
) -> None:
    """``Executor.from_hub`` of a private executor: the package comes from the Hub with the
    owner's token, its class is built from it, and its endpoint answers."""
    mark = uuid.uuid4().hex
    uuid8 = push(module_hub, executor(tmp_path / "ex", mark), "JinaFromHub", "--private")
    script = FROM_HUB.format(uri=f"jinaai://{ALICE}/JinaFromHub")
    done = run_jina(script, jina_env(module_hub.url, ALICE_TOKEN, home), timeout=180)
    package = home / ".cache" / "jina" / "hub-package" / uuid8
    assert answer_of(done) == [f"{mark}|{package}|one", f"{mark}|{package}|two"]


def test_executor_from_hub_needs_the_owners_token(
    jina_venv: Path, module_hub: HubHandle, tmp_path: Path, home: Path
) -> None:
    """Without a token jina cannot load a private executor (the Hub answers "not found")."""
    push(module_hub, executor(tmp_path / "ex", "m"), "JinaPrivate", "--private")
    script = FROM_HUB.format(uri=f"jinaai://{ALICE}/JinaPrivate")
    done = run_jina(script, jina_env(module_hub.url, None, home), timeout=180)
    assert done.returncode != 0
    assert f"Executor '{ALICE}/JinaPrivate' not found" in done.stderr, done.stderr[-2000:]
    assert not list(home.rglob("executor.py"))


def test_flow_with_an_executor_from_hub(
    jina_venv: Path, module_hub: HubHandle, tmp_path: Path, home: Path
) -> None:
    """A Flow with ``uses='jinaai://…'``: its executor's process pulls the package from the Hub
    and answers the Flow's request."""
    mark = uuid.uuid4().hex
    uuid8 = push(module_hub, executor(tmp_path / "ex", mark), "JinaFlow", "--public")
    script = FLOW.format(uses=f"jinaai://{ALICE}/JinaFlow")
    done = run_jina(script, jina_env(module_hub.url, ALICE_TOKEN, home), timeout=240)
    package = home / ".cache" / "jina" / "hub-package" / uuid8
    assert answer_of(done) == [f"{mark}|{package}|one", f"{mark}|{package}|two"]


@pytest.fixture
def executor_image(
    jina_image: str, docker_client: Any, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """An executor's image built with the Hub's generated Dockerfile, FROM the jina stand-in;
    (its tag, the executor's mark). Its containers and the image are removed afterwards."""
    mark = uuid.uuid4().hex
    folder = executor(tmp_path / "ex", mark)
    dockerfile = generated_dockerfile(
        jina_version=JINA_VERSION, python_version="3.11", requirements=None, build_env=[]
    )
    assert f"FROM {IMAGE}\n" in dockerfile
    (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    tag = f"localhost/hubci-jina-executor:{mark[:12]}"
    docker_client.images.build(path=str(folder), tag=tag, rm=True, network_mode="none")
    try:
        yield tag, mark
    finally:
        for container in docker_client.containers.list(all=True, filters={"ancestor": tag}):
            container.remove(force=True)
        docker_client.images.remove(tag, force=True)


@pytest.mark.docker
@pytest.mark.timeout(1200)  # a cold machine also builds the jina stand-in
def test_flow_with_an_executor_in_a_container(
    jina_venv: Path,
    executor_image: tuple[str, str],
    docker_engine: EngineService,
    docker_client: Any,
    home: Path,
) -> None:
    """A Flow with ``uses='docker://…'``: jina starts the image's container in the test engine
    (host networking) and the executor in it answers the Flow's request."""
    tag, mark = executor_image
    env = {**jina_env(None, None, home), "DOCKER_HOST": docker_engine.url}
    done = run_jina(FLOW.format(uses=f"docker://{tag}"), env, timeout=300, containers=True)
    assert answer_of(done) == [f"{mark}|/workspace|one", f"{mark}|/workspace|two"]
    # the Flow removed its container when it closed
    assert docker_client.containers.list(all=True, filters={"ancestor": tag}) == []
