"""jina 3.34 itself as a consumer of the local Hub (testing/jina.py).

An executor pushed with ``hubci push`` to a Hub with the check builder is loaded by
``Executor.from_hub`` and served by a ``Flow`` with ``uses='jinaai://…'``. Flows that run
executors in containers, from images in a registry, are in tests/image/test_jina_consumers.py.
Each executor writes a mark of its own test and the folder its code was loaded from into every
document, so a test sees where its answer came from.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hubci.server.embedded import HubHandle
from testing.hub import ALICE, ALICE_TOKEN
from testing.jina import FLOW, FROM_HUB, MARKING_EXECUTOR, answered, jina_env, run_jina

from .helpers import write

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the venv, on a cold machine

CONFIG_YML = "jtype: MyExec\npy_modules:\n  - executor.py\n"


def executor(folder: Path, mark: str) -> Path:
    return write(
        folder,
        {
            "config.yml": CONFIG_YML,
            "executor.py": MARKING_EXECUTOR.format(cls="MyExec", mark=mark),
            "README.md": "x",
        },
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
    assert answered(done) == [f"{mark}|{package}|one", f"{mark}|{package}|two"]


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
    assert answered(done) == [f"{mark}|{package}|one", f"{mark}|{package}|two"]
