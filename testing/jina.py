"""jina 3.34 itself, as a consumer of the local Hub: its own venv, and a stand-in of its image.

:func:`jina_python` creates a venv with ``jina==3.34.0`` once under ``.cache/`` (gitignored) at the
repository root, installed with the pins of ``testing/jina-3.34-constraints.txt`` (without them
pip backtracks for over ten minutes), guarded by a file lock so parallel test processes share one
install; a half-made venv (no ``.complete`` marker) is rebuilt. :func:`run_jina` runs a Python
snippet there, in the environment the caller gives plus :func:`offline_env`, which keeps jina on
loopback (see there).

:func:`build_jina_standin` puts a stand-in of jina's official image into a Docker Engine (the
tests' podman): no registry is reachable from the test machines, so ``jinaai/jina:3.34.0-py37-
perf`` (the base the Hub's generated Dockerfile names for a jina 3.34 / Python 3.11 client) cannot
be pulled. It is the Debian bookworm stand-in of :mod:`testing.action_image` with jina installed
into its system Python from a wheelhouse served on 127.0.0.1 (no index is reached from inside
the build), ``jina`` as its entrypoint, and jina's telemetry switched off. The wheels and the
finished image (``docker save``) are cached per recipe in the tests' cache folder
(``HUBCI_TEST_CACHE``, default ``/var/tmp/hubci-test-cache``): a warm session only loads it.

Executors a Flow runs in containers (``uses='docker://…'``) need two more things from the
test engine's podman, which :func:`run_jina` with ``containers=True`` provides: readiness checked
where a host-network container listens (:data:`CONTAINER_SHIM`), and ``host.docker.internal``
mapped to 127.0.0.1 (this machine has ``/.dockerenv``, so jina believes it runs inside Docker
and sends requests to that name) in a mount namespace of the snippet's own.

Fixtures (registered through ``tests/conftest.py`` ``pytest_plugins``):

- ``jina_venv`` (session): the venv's interpreter (a failing install fails).

:func:`build_jina_standin` is called by the tests that need the image, in the engine they use
(tests/image/test_jina_consumers.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hubci.normalize.dockerfile import base_image
from testing.action_image import (
    STANDIN,
    STANDIN_PYTHON,
    STANDIN_RECIPE,
    cache_dir,
    import_standin,
    serve_folder,
)
from testing.engine import _death_signal

JINA_VERSION = "3.34.0"
JINA = f"jina=={JINA_VERSION}"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
VENV = CACHE / "jina-3.34"
MARKER = VENV / ".complete"
CONSTRAINTS = Path(__file__).resolve().parent / "jina-3.34-constraints.txt"
#: the image the Hub's generated Dockerfile builds on for a jina 3.34 client on Python 3.11
#: (``jinaai/jina:3.34.0-py37-perf``: the Hub names every Python but 3.8 and 3.9 ``py37``)
IMAGE = base_image(JINA_VERSION, STANDIN_PYTHON)
INSTALL_TIMEOUT = 900
BUILD_TIMEOUT = 900
#: a port nothing listens on: every proxied request ends there, refused, on loopback
DEAD_PROXY = "http://127.0.0.1:9"
#: what jina reaches without the proxy: loopback, the any-address it may dial, the container alias
NO_PROXY = ("127.0.0.1", "localhost", "::1", "0.0.0.0", "host.docker.internal")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

#: the stand-in of jina's image: the Debian stand-in with jina in its system Python (as the
#: official image has it), telemetry off and servers on loopback (the test machines allow no
#: other address)
STANDIN_DOCKERFILE = f"""\
ARG BASE
FROM ${{BASE}}
ARG PIP_FIND_LINKS
COPY constraints.txt /tmp/jina-constraints.txt
RUN pip install --no-cache-dir --no-index --find-links "$PIP_FIND_LINKS" \\
        -c /tmp/jina-constraints.txt "{JINA}" \\
    && rm /tmp/jina-constraints.txt && jina --version
ENV JINA_OPTOUT_TELEMETRY=1 JINA_DEFAULT_HOST=127.0.0.1
ENTRYPOINT ["jina"]
"""


#: An executor whose endpoint writes ``<mark>|<folder of its code>|`` before each document's
#: text, so a test sees which push answered and where its code was loaded from
#: (``.format(cls=…, mark=…)``).
MARKING_EXECUTOR = """
import os

from jina import Executor, requests


class {cls}(Executor):
    @requests
    def mark(self, docs, **kwargs):
        where = os.path.dirname(os.path.abspath(__file__))
        for doc in docs:
            doc.text = "{mark}|" + where + "|" + doc.text
        return docs
"""

#: two documents for an executor; the snippets below print the texts it answered as one JSON line
_DOCS = """
import json
from docarray import DocList
from docarray.documents import TextDoc

docs = DocList[TextDoc]([TextDoc(text="one"), TextDoc(text="two")])
"""
#: ``Executor.from_hub`` of ``{uri}``, its endpoint called directly
FROM_HUB = (
    _DOCS
    + """
from jina import Executor

executor = Executor.from_hub("{uri}")
answer = executor.mark(docs=docs)
print("RESULT " + json.dumps([doc.text for doc in answer]))
"""
)
#: a Flow with ``uses={uses}``, one request
FLOW = (
    _DOCS
    + """
from jina import Flow

with Flow().add(uses="{uses}") as flow:
    answer = flow.post("/", inputs=docs, return_type=DocList[TextDoc])
print("RESULT " + json.dumps([doc.text for doc in answer]))
"""
)


def answered(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The texts a :data:`FROM_HUB` or :data:`FLOW` snippet printed (it must have exited 0 and
    printed exactly one result)."""
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, (done.stdout + done.stderr)[-5000:]
    texts = json.loads(lines[0][len("RESULT ") :])
    assert isinstance(texts, list)
    return [str(text) for text in texts]


class JinaSetupError(RuntimeError):
    pass


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


def _run(cmd: list[str], timeout: float) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        msg = f"{' '.join(cmd[:5])} failed: {(done.stdout + done.stderr)[-3000:]}"
        raise JinaSetupError(msg)


def jina_python() -> Path:
    """The venv's interpreter, creating the venv on first use (about a minute)."""
    if MARKER.is_file():
        return _python(VENV)
    with _locked(CACHE / "jina-3.34.lock"):
        if MARKER.is_file():  # another process made it while we waited
            return _python(VENV)
        shutil.rmtree(VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        pip = [str(_python(VENV)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        try:
            _run([base, "-m", "venv", str(VENV)], INSTALL_TIMEOUT)
            _run([*pip, JINA, "-c", str(CONSTRAINTS)], INSTALL_TIMEOUT)
        except (JinaSetupError, subprocess.TimeoutExpired):
            shutil.rmtree(VENV, ignore_errors=True)
            raise
        MARKER.write_text(JINA + "\n", encoding="utf-8")
    return _python(VENV)


def offline_env() -> dict[str, str]:
    """What keeps jina (and the hubble client inside it) on loopback, whatever the caller sets.

    - ``JINA_OPTOUT_TELEMETRY``: no event to telemetry.jina.ai when a client, Flow or executor
      runtime starts (``jina.helper.send_telemetry_event``).
    - A proxy on a dead loopback port for HTTP(S): a Flow's start-up table looks up the machine's
      public address at api.ipify.org, ident.me and checkip.amazonaws.com
      (``jina.helper.get_public_ip``, no switch to turn it off); through the proxy each attempt
      is refused on 127.0.0.1 instead, with no DNS query. Loopback names bypass it (``NO_PROXY``,
      honoured by urllib, requests and gRPC), so the Hub, the gateway and the executors are
      reached directly.
    - ``GRPC_DNS_RESOLVER=native``: gRPC resolves names with the C library (``/etc/hosts``
      first), not with its own c-ares resolver, which asks the DNS server for the AAAA record
      of a name ``/etc/hosts`` maps to IPv4 only (``host.docker.internal``; seen with strace).
    - ``JINA_DEFAULT_HOST``: gateways and executors bind 127.0.0.1, not 0.0.0.0.
    - ``SHOW_HUBBLE_HINT=NEVER``: no login hint; plain, wide, unbuffered logs.
    """
    no_proxy = ",".join(NO_PROXY)
    return {
        "JINA_OPTOUT_TELEMETRY": "1",
        "JINA_DEFAULT_HOST": "127.0.0.1",
        "GRPC_DNS_RESOLVER": "native",
        "SHOW_HUBBLE_HINT": "NEVER",
        "JINA_LOG_NO_COLOR": "1",
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "no_proxy": no_proxy,
        "NO_PROXY": no_proxy,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        "TERM": "dumb",
    }


def jina_env(hub_url: str | None, token: str | None, home: Path) -> dict[str, str]:
    """The usual caller's environment: the Hub at ``hub_url`` (none: no Hub), ``token``, and
    ``home`` as HOME (hubble's config and jina's package cache end up there)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "JINA_HUB_ROOT": str(home / ".jina"),
    }
    if hub_url is not None:
        env["JINA_HUBBLE_REGISTRY"] = hub_url
    if token is not None:
        env["JINA_AUTH_TOKEN"] = token
    return env


def _check_loopback(env: Mapping[str, str]) -> None:
    url = env.get("JINA_HUBBLE_REGISTRY")
    if url is not None and urlsplit(url).hostname not in LOOPBACK_HOSTS:
        msg = f"JINA_HUBBLE_REGISTRY={url}: jina may only talk to a Hub on loopback in tests"
        raise ValueError(msg)


#: Prepended to a snippet that runs executors in containers (``run_jina(containers=True)``).
#: On Linux jina 3.34 starts them with host networking and then checks their readiness at the
#: gateway address of the engine's ``bridge`` network (``ContainerPod.
#: _get_network_for_dind_linux``): Docker's docker0 is an address of the host, where a
#: host-network container listens too, but podman's bridge (10.88.0.1) exists only while a
#: container uses it, and the tests never use it (it edits the host's firewall): jina waits
#: there for ten minutes. Host networking stays; readiness is checked where the container
#: listens, the address jina would use without a bridge network.
CONTAINER_SHIM = """\
from jina.orchestrate.pods.container import ContainerPod as _HubciContainerPod


def _hubci_host_network(self, client, ctrl_address):
    return "host", ctrl_address


_HubciContainerPod._get_network_for_dind_linux = _hubci_host_network
"""


def run_jina(
    script: str,
    env: Mapping[str, str],
    timeout: float,
    *,
    cwd: Path | None = None,
    containers: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with the jina venv's Python in ``env`` plus :func:`offline_env` (which the
    caller cannot undo), in ``cwd`` (default: ``env["HOME"]``).

    ``containers``: the snippet starts executors in containers of the engine at
    ``env["DOCKER_HOST"]``. :data:`CONTAINER_SHIM` is put in front of it, and it runs where
    ``host.docker.internal`` is 127.0.0.1: with ``/.dockerenv`` present jina believes it runs in
    a container itself and sends a Flow's requests to that name (``Deployment.
    get_worker_host``). The name is added in a mount namespace of the snippet's own, with its
    own ``/etc/hosts``; the machine's file is not changed.
    """
    _check_loopback(env)
    full = {**env, **offline_env()}
    if containers:
        if "DOCKER_HOST" not in env:
            msg = "containers=True needs DOCKER_HOST (the test engine) in env"
            raise ValueError(msg)
        script = CONTAINER_SHIM + "\n" + script
    cmd = [str(jina_python()), "-c", script]
    with tempfile.TemporaryDirectory(prefix="hubci-jina-") as scratch:
        if containers:
            cmd = _with_docker_host_alias(cmd, Path(scratch) / "hosts")
        return _run_group(cmd, full, cwd if cwd is not None else env.get("HOME"), timeout)


def _run_group(
    cmd: list[str], env: dict[str, str], cwd: Path | str | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in a process group of its own; on timeout end the whole group (a Flow's
    gateway and executors are processes of their own, and would outlive a killed parent)."""
    with subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_death_signal(),  # ended with the test process, however that ends
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end_group(proc.pid)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(cmd, timeout, out, err) from None
        finally:
            if proc.poll() is None:
                _end_group(proc.pid)
        _end_group(proc.pid, grace=0.0)  # what a snippet that exited left running, if any
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _end_group(pgid: int, grace: float = 10.0) -> None:
    """SIGTERM to process group ``pgid`` (ours: started with a session of its own), then
    SIGKILL to whatever is left after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM if grace else signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _with_docker_host_alias(cmd: list[str], hosts: Path) -> list[str]:
    """``cmd`` in a private mount namespace where ``/etc/hosts`` also names 127.0.0.1
    ``host.docker.internal`` (a bind mount that ends with the namespace). As root, a mount
    namespace; otherwise inside a user namespace as well (where the kernel allows one)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        msg = "unshare (util-linux) is needed to map host.docker.internal for jina"
        raise JinaSetupError(msg)
    current = Path("/etc/hosts").read_text(encoding="utf-8", errors="replace")
    hosts.write_text(current.rstrip("\n") + "\n127.0.0.1 host.docker.internal\n", "utf-8")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    namespace = [unshare, *user, "--mount", "--propagation", "private"]
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return [*namespace, "sh", "-c", script, str(hosts), *cmd]


# ---------------------------------------------------------------------------------------------
# the jina stand-in image


def _recipe_key() -> str:
    digest = hashlib.sha256()
    for part in (JINA, STANDIN_RECIPE, STANDIN_PYTHON, STANDIN_DOCKERFILE):
        digest.update(part.encode() + b"\0")
    digest.update(CONSTRAINTS.read_bytes())
    return digest.hexdigest()[:16]


def jina_wheelhouse() -> Path:
    """jina 3.34 and all its dependencies as wheels for the stand-in's Python 3.11, made once per
    recipe. ``pip wheel`` by the jina venv's Python, which must then be a 3.11 too: jina's own
    wheel is binary, and jcloud only exists as an sdist, so ``pip download --python-version``
    (which takes wheels only) cannot fetch the set for another Python."""
    folder = cache_dir() / f"jina-wheels-{_recipe_key()}"
    if (folder / ".complete").is_file():
        return folder
    with _locked(cache_dir() / "jina-wheels.lock"):
        if (folder / ".complete").is_file():
            return folder
        python = jina_python()
        version = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if version != STANDIN_PYTHON:
            msg = f"the jina venv has Python {version}; the stand-in's wheels need {STANDIN_PYTHON}"
            raise JinaSetupError(msg)
        shutil.rmtree(folder, ignore_errors=True)
        pip = [str(python), "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
        _run([*pip, "--wheel-dir", str(folder), "-c", str(CONSTRAINTS), JINA], INSTALL_TIMEOUT)
        (folder / ".complete").write_text(JINA + "\n", encoding="utf-8")
    return folder


def _build(client: Any) -> None:
    import_standin(client)
    wheels = serve_folder(jina_wheelhouse())
    context = Path(tempfile.mkdtemp(prefix="hubci-jina-image-"))
    try:
        (context / "Dockerfile").write_text(STANDIN_DOCKERFILE, encoding="utf-8")
        shutil.copyfile(CONSTRAINTS, context / "constraints.txt")
        log: list[str] = []
        for item in client.api.build(
            path=str(context),
            tag=IMAGE,
            decode=True,
            rm=True,
            network_mode="host",  # the wheel folder on 127.0.0.1, from the build
            buildargs={"BASE": STANDIN, "PIP_FIND_LINKS": wheels.url},
            timeout=BUILD_TIMEOUT,
        ):
            if "stream" in item:
                log.append(str(item["stream"]))
            if "error" in item or "errorDetail" in item:
                msg = f"the jina stand-in did not build: {item}\n{''.join(log)[-3000:]}"
                raise JinaSetupError(msg)
    finally:
        wheels.stop()
        shutil.rmtree(context, ignore_errors=True)


def build_jina_standin(client: Any) -> str:
    """Put the jina stand-in (:data:`IMAGE`) into the engine of ``client``; its tag.

    Loaded from the cached ``docker save`` of an earlier build of the same recipe when there is
    one; else built (the stand-in base, then jina from the wheelhouse) and saved for next time.
    """
    saved = cache_dir() / f"jina-standin-{_recipe_key()}.tar"
    if not saved.is_file():
        _build(client)
        with _locked(cache_dir() / "jina-standin.lock"):
            if not saved.is_file():
                partial = saved.with_suffix(f".{os.getpid()}.tmp")
                with partial.open("wb") as out:
                    for chunk in client.api.get_image(IMAGE):
                        out.write(chunk)
                partial.replace(saved)  # atomic: a reader never sees half a file
        return IMAGE
    with saved.open("rb") as stream:
        client.api.load_image(stream)
    client.images.get(IMAGE)  # raises when the archive did not hold the tag
    return IMAGE


@pytest.fixture(scope="session", name="jina_venv")
def jina_venv_fixture() -> Path:
    """The jina 3.34 venv's interpreter (made once per machine; a failed install fails)."""
    try:
        return jina_python()
    except (JinaSetupError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"the jina 3.34 venv could not be made: {exc}")
