"""Fixtures for the build tests: FROM-scratch executor folders and an in-process CLI runner.

The Engine fixtures (``docker_engine``, ``docker_client``, ``docker_host``) come from
``testing.engine`` through ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.engine import unavailable

EXECUTOR_PY = """\
from jina import Executor, requests


class ScratchExecutor(Executor):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    @requests
    def foo(self, docs, **kwargs):
        return docs
"""

CONFIG_YML = """\
jtype: ScratchExecutor
py_modules:
  - executor.py
metas:
  name: ScratchExecutor
"""

#: COPY, ARG, LABEL, ENV: everything a FROM-scratch build can do without pulling an image.
SCRATCH_DOCKERFILE = """\
FROM scratch
ARG GREETING=hello
LABEL org.example.kind="scratch-executor"
ENV APP_HOME=/workspace
COPY config.yml executor.py /workspace/
COPY data/payload.txt /workspace/data/payload.txt
ENTRYPOINT ["jina", "executor", "--uses", "config.yml"]
"""


def write_executor(folder: Path, dockerfile: str = SCRATCH_DOCKERFILE, **extra: str) -> Path:
    """A small valid executor with a FROM-scratch Dockerfile; ``extra`` adds files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yml").write_text(CONFIG_YML, encoding="utf-8")
    (folder / "executor.py").write_text(EXECUTOR_PY, encoding="utf-8")
    (folder / "README.md").write_text("# ScratchExecutor\n\nA test executor.\n", encoding="utf-8")
    (folder / "requirements.txt").write_text("", encoding="utf-8")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "payload.txt").write_text("payload\n", encoding="utf-8")
    (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    for name, text in extra.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_hubci(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], Run]:
    """Run ``hubci.cli.main`` in-process (errors rendered once, real exit codes)."""
    from hubci.cli import main

    def run(args: list[str]) -> Run:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main(args)
        out, err = capsys.readouterr()
        code = exc.value.code
        return Run(code if isinstance(code, int) else 1, out, err)

    return run


@pytest.fixture
def make_executor() -> Callable[..., Path]:
    """:func:`write_executor` as a fixture (test modules do not import conftest)."""
    return write_executor


@pytest.fixture
def scratch_executor(tmp_path: Path) -> Path:
    return write_executor(tmp_path / "scratch-executor")


@pytest.fixture
def static_binary() -> Path:
    """A statically linked program a FROM-scratch RUN step can execute (podman's catatonit)."""
    found = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"
    path = Path(found)
    if not path.is_file():
        unavailable("no static binary (catatonit, installed with podman) to RUN in a scratch image")
    return path
