"""Helpers for the local Hub tests: executor folders, zips, and raw protocol calls."""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from testing.hub import ALICE_TOKEN

EXECUTOR_PY = '''
from jina import Executor, requests


class {name}(Executor):
    """Says hello."""

    def __init__(self, greeting: str = "hi", **kwargs):
        super().__init__(**kwargs)
        self.greeting = greeting

    @requests(on="/greet")
    def greet(self, docs, **kwargs):
        """Greets."""
        return docs
'''


def write(folder: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def executor_files(name: str = "Greeter", **extra: str) -> dict[str, str]:
    files = {
        "config.yml": f"jtype: {name}\nmetas:\n  name: {name}\n  py_modules:\n    - executor.py\n",
        "executor.py": EXECUTOR_PY.format(name=name),
        "README.md": f"# {name}\n",
        "requirements.txt": "numpy\n",
    }
    files.update(extra)
    return files


def zip_bytes(files: Mapping[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            archive.writestr(rel, data)
    return buf.getvalue()


def executor_zip(name: str = "Greeter", **extra: str) -> bytes:
    return zip_bytes(
        {k: textwrap.dedent(v).lstrip("\n") for k, v in executor_files(name, **extra).items()}
    )


def auth(token: str | None = ALICE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"token {token}"} if token else {}


def push_raw(
    url: str,
    data: bytes,
    *,
    token: str | None = ALICE_TOKEN,
    endpoint: str = "executor.push",
    **fields: str,
) -> requests.Response:
    """POST a push exactly as the official client shapes it (field order, filename)."""
    form = {"public": "False", "private": "False", "md5sum": hashlib.md5(data).hexdigest()}
    form.update(fields)
    return requests.post(
        f"{url}/v2/rpc/{endpoint}",
        headers=auth(token),
        data=form,
        files={"file": ("filename", data, "application/octet-stream")},
        stream=True,
        timeout=60,
    )


def lines_of(response: requests.Response) -> list[dict[str, Any]]:
    """Every line of an NDJSON body; fails on a blank line or a line that is not an object."""
    raw = response.content.decode("utf-8")
    assert raw.endswith("\n"), raw[-200:]
    assert "\r" not in raw
    out = []
    for line in raw.split("\n")[:-1]:
        assert line.strip(), "blank line in an NDJSON stream"
        value = json.loads(line)
        assert isinstance(value, dict)
        out.append(value)
    return out


def push(url: str, data: bytes, **kwargs: Any) -> list[dict[str, Any]]:
    response = push_raw(url, data, **kwargs)
    assert response.status_code == 201, response.text
    return lines_of(response)


def rpc(
    url: str, method: str, *, token: str | None = ALICE_TOKEN, **kwargs: Any
) -> requests.Response:
    return requests.post(f"{url}/v2/rpc/{method}", headers=auth(token), timeout=30, **kwargs)


def query_progress(
    url: str, task_id: str, *, replay: bool = True, verbose: bool = False, token: str = ALICE_TOKEN
) -> requests.Response:
    fields = {"replay": (None, str(replay)), "verbose": (None, str(verbose)), "id": (None, task_id)}
    return rpc(url, "executor.queryProgress", token=token, files=fields, stream=True)


def tasks(url: str, name: str, *, token: str = ALICE_TOKEN, size: int = 10) -> list[dict[str, Any]]:
    response = rpc(
        url,
        "executor.listAsyncTasks",
        token=token,
        data={"id": name, "sort": "-createdAt", "pageSize": str(size)},
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise AssertionError(msg)
        time.sleep(0.02)


def terminal(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The stream's only terminal line (complete/error), checked to be the last."""
    ends = [i for i, line in enumerate(lines) if line.get("type") in ("complete", "error")]
    assert len(ends) == 1, lines
    assert ends[0] == len(lines) - 1, lines
    return lines[-1]
