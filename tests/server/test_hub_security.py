"""Security properties of the local Hub: secrets stay secret, uploads stream to disk."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from pathlib import Path

import pytest
import requests
from requests_toolbelt import MultipartEncoder

from hubci.server.embedded import HubHandle
from testing.hub import ALICE_TOKEN, BOB_TOKEN, USERS, start_hub_process

from .helpers import executor_files, executor_zip, lines_of, push, rpc, tasks, terminal


def _wait_for_workers_to_clean_up(work: Path, deadline_s: float = 30.0) -> None:
    """The terminal line comes before a worker removes its work folder: wait for that."""
    deadline = time.monotonic() + deadline_s
    while work.exists() and any(work.iterdir()):
        assert time.monotonic() < deadline, f"work folders left behind: {list(work.iterdir())}"
        time.sleep(0.02)


def test_tokens_and_build_env_values_never_reach_logs_or_disk(
    hub: HubHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    value = "build-env-value-7f3a"
    secret = "executor-secret-9c1d"
    files = {"requirements.txt": "numpy==${NUMPY_VERSION}\n"}
    rpc(hub.url, "user.identity.whoami", token="wrong-token-5e6f")
    lines = push(
        hub.url,
        executor_zip(**files),
        id="Greeter",
        verbose="True",
        buildEnv=json.dumps({"NUMPY_VERSION": value}),
    )
    assert terminal(lines)["type"] == "complete"
    update = push(hub.url, executor_zip(), endpoint="executor.update", id="Greeter", secret=secret)
    assert terminal(update)["type"] == "complete"
    _wait_for_workers_to_clean_up(hub.data_dir / "work")
    for text in (ALICE_TOKEN, BOB_TOKEN, "wrong-token-5e6f", value, secret):
        assert text not in caplog.text
        for path in hub.data_dir.rglob("*"):
            if path.is_file():
                assert text.encode() not in path.read_bytes(), (text, path)
    assert value not in json.dumps(lines)


def test_data_files_are_private(hub: HubHandle) -> None:
    terminal(push(hub.url, executor_zip(), id="Greeter"))
    assert hub.data_dir.stat().st_mode & 0o077 == 0
    for sub in ("bundles", "work"):
        assert (hub.data_dir / sub).stat().st_mode & 0o077 == 0
    for bundle in (hub.data_dir / "bundles").iterdir():
        assert bundle.stat().st_mode & 0o077 == 0
    assert (hub.data_dir / "hub.db").stat().st_mode & 0o077 == 0


def test_one_user_never_sees_another_users_private_work(hub: HubHandle) -> None:
    terminal(push(hub.url, executor_zip(), id="Mine", private="True"))
    terminal(push(hub.url, executor_zip(), id="Mine", token=BOB_TOKEN))
    mine = tasks(hub.url, "Mine")
    theirs = tasks(hub.url, "Mine", token=BOB_TOKEN)
    assert {t["owner"] for t in mine} == {"alice"}
    assert {t["owner"] for t in theirs} == {"bob"}
    everything = rpc(hub.url, "executor.listAsyncTasks", token=BOB_TOKEN, data={}).json()["data"]
    assert {t["owner"] for t in everything} == {"bob"}


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    msg = "no VmHWM in /proc/PID/status"
    raise AssertionError(msg)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_big_upload_is_streamed_to_disk(tmp_path: Path) -> None:
    size = 96 * 1024 * 1024
    bundle = tmp_path / "big.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
        for rel, text in executor_files("Big").items():
            archive.writestr(rel, text)
        with archive.open("weights.bin", "w", force_zip64=True) as out:
            block = hashlib.sha256(b"seed").digest() * (1024 * 32)  # 1 MiB, high entropy-ish
            for _ in range(size // len(block)):
                out.write(block)
    digest = hashlib.md5()
    with open(bundle, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    hub = start_hub_process(tmp_path / "data", users=USERS, args=["--build-seconds", "0"])
    try:
        before = _vm_hwm_kib(hub.pid)
        with open(bundle, "rb") as handle:
            encoder = MultipartEncoder(
                fields=[
                    ("public", "False"),
                    ("private", "False"),
                    ("md5sum", digest.hexdigest()),
                    ("id", "Big"),
                    ("file", ("filename", handle, "application/octet-stream")),
                ]
            )
            response = requests.post(
                f"{hub.url}/v2/rpc/executor.push",
                data=encoder,
                headers={
                    "Content-Type": encoder.content_type,
                    "Authorization": f"token {ALICE_TOKEN}",
                },
                timeout=120,
            )
        assert terminal(lines_of(response))["type"] == "complete"
        grown_mib = (_vm_hwm_kib(hub.pid) - before) / 1024
        assert grown_mib < 48, f"the server's peak RSS grew {grown_mib:.0f} MiB"
    finally:
        hub.stop()
