"""The Action's image, built from the project's Dockerfile and run the way the runner runs it.

No image registry is reachable from the test machines, so the Dockerfile's pinned base cannot be
pulled. A stand-in with the same shape is made instead, once per session: Debian bookworm from
``debootstrap`` (Debian's packages are reachable) with Python, pip at ``/usr/local/bin`` and no
"externally managed" marker, as in the official Python image, imported into the session's
engine. The build then gets it through the Dockerfile's ``PYTHON_IMAGE`` argument, Debian's
packages through ``DEBIAN_MIRROR``, and the locked wheels from a folder served on 127.0.0.1
(``PIP_FIND_LINKS`` and ``PIP_NO_INDEX``): the lock's hashes are checked as in a release build.
The wheels are downloaded once per lock, with their hashes, into a cache folder that outlives
the session (``HUBCI_TEST_CACHE``, default ``/var/tmp/hubci-test-cache``), as is the stand-in.

:func:`run_as_runner` starts a container as GitHub's runner starts a container action: the
workspace bind-mounted at ``/github/workspace`` (owned by another user), the event file under
``/github/workflow``, file commands under ``/github/file_commands``, ``INPUT_*`` and
``GITHUB_*`` variables, ``--network none``, and the exit code read before the container is
removed (podman's API loses it with auto-remove).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testing.action_env import action_env, parse_outputs

REPO = Path(__file__).resolve().parent.parent
STANDIN = "localhost/hubci-standin:bookworm"
IMAGE = "localhost/hubci-action:test"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: Bumped when the stand-in's recipe changes (the cached tarball is then made again).
STANDIN_RECIPE = "bookworm-minbase-python3-pip-2"
#: bookworm's Python, which the stand-in runs (the wheels are downloaded for it)
STANDIN_PYTHON = "3.11"
RUNNER_UID = 1001


def cache_dir() -> Path:
    path = Path(os.environ.get("HUBCI_TEST_CACHE", "/var/tmp/hubci-test-cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _as_root(cmd: list[str]) -> list[str]:
    """``cmd`` as root: itself when the tests run as root, else through passwordless sudo (as
    on a GitHub-hosted runner); debootstrap and reading the root file system need it."""
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo") is None:
        pytest.fail("the Action image tests need root or passwordless sudo (debootstrap)")
    return ["sudo", "-n", *cmd]


def standin_tarball() -> Path:
    """The stand-in base's root file system as a tar (made with debootstrap, then cached)."""
    tarball = cache_dir() / f"standin-{STANDIN_RECIPE}.tar"
    if tarball.is_file():
        return tarball
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        pytest.fail("debootstrap is not installed (apt-get install -y debootstrap; .ci/run does)")
    work = Path(tempfile.mkdtemp(prefix="hubci-standin-", dir=cache_dir()))
    root = work / "rootfs"
    try:
        done = subprocess.run(
            _as_root(
                [
                    debootstrap,
                    "--variant=minbase",
                    "--include=python3,python3-pip",
                    "bookworm",
                    str(root),
                    DEBIAN_MIRROR,
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"debootstrap failed: {(done.stdout + done.stderr)[-2000:]}")
        # shape it like the official Python image: python and pip in /usr/local/bin, and no
        # "externally managed" marker (pip installs into the system Python there)
        script = (
            'set -e; cd "$1"; mkdir -p usr/local/bin;'
            " ln -sf /usr/bin/python3 usr/local/bin/python;"
            " ln -sf /usr/bin/python3 usr/local/bin/python3;"
            " ln -sf /usr/bin/pip3 usr/local/bin/pip;"
            " rm -f usr/lib/python3*/EXTERNALLY-MANAGED;"
            " rm -rf usr/share/doc usr/share/man usr/share/locale var/cache/apt"
        )
        subprocess.run(_as_root(["sh", "-c", script, "sh", str(root)]), check=True)
        partial = work / "standin.tar"
        subprocess.run(_as_root(["tar", "-C", str(root), "-cf", str(partial), "."]), check=True)
        subprocess.run(_as_root(["chmod", "a+r", str(partial)]), check=True)
        partial.replace(tarball)  # atomic: two sessions at once each make their own
    finally:
        subprocess.run(_as_root(["rm", "-rf", str(work)]), check=False)
    return tarball


def wheelhouse(python: str = STANDIN_PYTHON) -> Path:
    """The lock's wheels for Python ``python`` (``3.11``), downloaded with their hashes
    checked (one folder per lock and Python)."""
    lock = REPO / "requirements" / "action.txt"
    key = hashlib.sha256(lock.read_bytes() + python.encode()).hexdigest()[:16]
    folder = cache_dir() / f"wheels-{key}"
    if (folder / ".complete").is_file():
        return folder
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes"),
            *("--no-deps", "--only-binary=:all:", "--dest", str(folder)),
            # for the stand-in's Python (bookworm's 3.11), whatever Python runs the tests
            *("--python-version", python, "--implementation", "cp"),
            *("--requirement", str(lock)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"pip download of the lock failed: {done.stderr[-2000:]}")
    (folder / ".complete").write_text("")
    return folder


@dataclass
class FolderServer:
    """A folder served over HTTP on 127.0.0.1 by a thread of the test process."""

    url: str
    server: http.server.ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_folder(folder: Path) -> FolderServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="wheelhouse", daemon=True).start()
    return FolderServer(f"http://127.0.0.1:{server.server_address[1]}/", server)


def import_standin(client: Any) -> str:
    """Import the stand-in base into the engine of ``client`` as :data:`STANDIN`; that name."""
    with standin_tarball().open("rb") as stream:
        answer = client.api.import_image(src=stream)
    image_id = json.loads(str(answer).strip().splitlines()[-1])["id"]
    repository, tag = STANDIN.rsplit(":", 1)
    client.api.tag(image_id, repository, tag)
    return STANDIN


def build_action_image(client: Any) -> str:
    """Import the stand-in, then build the project's Dockerfile on it; the image's name."""
    import_standin(client)
    wheels = serve_folder(wheelhouse())
    try:
        log: list[str] = []
        for item in client.api.build(
            path=str(REPO),
            dockerfile="Dockerfile",
            tag=IMAGE,
            decode=True,
            rm=True,
            network_mode="host",  # the wheel folder and Debian's mirror, from the build
            buildargs={
                "PYTHON_IMAGE": STANDIN,
                "DEBIAN_MIRROR": DEBIAN_MIRROR,
                "PIP_NO_INDEX": "1",
                "PIP_FIND_LINKS": wheels.url,
            },
        ):
            if "stream" in item:
                log.append(str(item["stream"]))
            if "error" in item or "errorDetail" in item:
                pytest.fail(f"the Action image did not build: {item}\n{''.join(log)[-3000:]}")
    finally:
        wheels.stop()
    return IMAGE


@pytest.fixture(scope="session")
def action_image(docker_client: Any) -> str:
    """The Action's image in the session's engine (removed at the end with the engine)."""
    return build_action_image(docker_client)


@dataclass
class ContainerRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def chown_tree(path: Path, uid: int) -> None:
    """Give ``path`` to ``uid``, as the runner's files belong to its own user while the
    container runs as root. Only a root test run can; otherwise (rootless podman, where the
    container's root is the current user) the files stay the current user's."""
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(Path(root) / name, uid, uid)
    os.lchown(path, uid, uid)


def run_as_runner(
    client: Any,
    image: str,
    workspace: Path,
    inputs: Mapping[str, str],
    *,
    event: str,
    ref: str,
    sha: str,
    payload: Mapping[str, object],
    runner_dir: Path,
) -> ContainerRun:
    """Run the Action's container as the runner does, and read its file commands back."""
    workflow = runner_dir / "_github_workflow"
    commands = runner_dir / "_runner_file_commands"
    home = runner_dir / "_github_home"
    for folder in (workflow, commands, home):
        folder.mkdir(parents=True, exist_ok=True)
    (workflow / "event.json").write_text(json.dumps(payload))
    step = uuid.uuid4()
    output, summary = f"set_output_{step}", f"step_summary_{step}"
    (commands / output).write_text("")
    (commands / summary).write_text("")
    for path in (workspace, workflow, commands, home):
        chown_tree(path, RUNNER_UID)  # the runner's user owns them, not root
    env = action_env(
        inputs,
        event=event,
        ref=ref,
        sha=sha,
        workspace="/github/workspace",
        event_path="/github/workflow/event.json",
        output=f"/github/file_commands/{output}",
        summary=f"/github/file_commands/{summary}",
    )
    env |= {"HOME": "/github/home", "RUNNER_OS": "Linux", "RUNNER_TEMP": "/github/home"}
    container = client.containers.run(
        image,
        environment=env,
        volumes={
            str(workspace): {"bind": "/github/workspace", "mode": "rw"},
            str(workflow): {"bind": "/github/workflow", "mode": "rw"},
            str(commands): {"bind": "/github/file_commands", "mode": "rw"},
            str(home): {"bind": "/github/home", "mode": "rw"},
        },
        working_dir="/github/workspace",
        network_mode="none",
        detach=True,
    )
    try:
        code = int(container.wait(timeout=180)["StatusCode"])
        log = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    return ContainerRun(
        code,
        log,
        parse_outputs((commands / output).read_text()),
        (commands / summary).read_text(),
    )


def image_layers(client: Any, image: str) -> list[tuple[str, int]]:
    """(instruction, size in bytes) of each layer, newest first (``docker history``)."""
    return [
        (str(item.get("CreatedBy", ""))[:120], int(item.get("Size", 0)))
        for item in client.api.history(image)
    ]
