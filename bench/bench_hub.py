"""Benchmark: the local Hub's request latency, push-to-complete latency and upload throughput.

Run: ``.venv/bin/python bench/bench_hub.py [--requests 300] [--pushes 40] [--upload-mb 256]``

Starts ``hubci hub serve --build-seconds 0`` as a subprocess (so its memory is its own) and
measures, from a client on loopback:

* ``whoami``: one small JSON request on a kept-alive connection (p50/p95);
* ``push → complete``: a small executor pushed and its stream read to the ``complete`` line,
  i.e. upload + extraction + normalization + a zero-second check build + bookkeeping (p50/p95);
* ``status replay``: ``queryProgress`` replaying a finished task (p50/p95);
* ``upload``: a ``--upload-mb`` MB bundle streamed from disk: throughput to the first stream line
  and the server's peak RSS growth (``VmHWM``), which shows the body never sits in memory.

The output is a markdown table (docs/local-hub.md quotes it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import requests
from requests_toolbelt import MultipartEncoder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.hub import ALICE_TOKEN, USERS, start_hub_process  # noqa: E402

HEADERS = {"Authorization": f"token {ALICE_TOKEN}"}
CONFIG = "jtype: Bench\nmetas:\n  name: Bench\n  py_modules: [executor.py]\n"
CODE = "from jina import Executor\n\nclass Bench(Executor):\n    pass\n"


def small_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.yml", CONFIG)
        archive.writestr("executor.py", CODE)
        archive.writestr("README.md", "# Bench\n")
    return buf.getvalue()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--pushes", type=int, default=40)
    parser.add_argument("--upload-mb", type=int, default=256)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        hub = start_hub_process(Path(tmp) / "data", users=USERS, args=["--build-seconds", "0"])
        try:
            session = requests.Session()
            url = f"{hub.url}/v2/rpc/"
            timings = []
            for _ in range(args.requests):
                start = time.perf_counter()
                session.post(url + "user.identity.whoami", headers=HEADERS).raise_for_status()
                timings.append(time.perf_counter() - start)
            rows.append(
                ("whoami", f"p50 {pct(timings, 0.5):.1f} ms, p95 {pct(timings, 0.95):.1f} ms")
            )

            data = small_zip()
            form = {"public": "False", "private": "False", "md5sum": hashlib.md5(data).hexdigest()}
            timings = []
            for _ in range(args.pushes):
                start = time.perf_counter()
                response = session.post(
                    url + "executor.push",
                    headers=HEADERS,
                    data={**form, "id": "Bench"},
                    files={"file": ("filename", data, "application/octet-stream")},
                    stream=True,
                )
                last = b""
                for line in response.iter_lines():
                    last = line
                assert b'"complete"' in last, last
                timings.append(time.perf_counter() - start)
            rows.append(
                (
                    "push → complete (small bundle, 0 s build)",
                    f"p50 {pct(timings, 0.5):.1f} ms, p95 {pct(timings, 0.95):.1f} ms",
                )
            )

            listed = session.post(
                url + "executor.listAsyncTasks", headers=HEADERS, data={"id": "Bench"}
            ).json()["data"]
            task_id = listed[0]["_id"]
            timings = []
            for _ in range(args.pushes):
                start = time.perf_counter()
                replay = session.post(
                    url + "executor.queryProgress",
                    headers=HEADERS,
                    files={
                        "replay": (None, "True"),
                        "verbose": (None, "True"),
                        "id": (None, task_id),
                    },
                )
                assert b'"succeeded"' in replay.content
                timings.append(time.perf_counter() - start)
            rows.append(
                (
                    "status replay (finished task)",
                    f"p50 {pct(timings, 0.5):.1f} ms, p95 {pct(timings, 0.95):.1f} ms",
                )
            )

            bundle = Path(tmp) / "big.zip"
            block = hashlib.sha512(b"bench").digest() * (1024 * 16)  # 1 MiB
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
                archive.writestr("config.yml", CONFIG)
                archive.writestr("executor.py", CODE)
                with archive.open("weights.bin", "w", force_zip64=True) as out:
                    for _ in range(args.upload_mb):
                        out.write(block)
            digest = hashlib.md5()
            with open(bundle, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            before = vm_hwm_kib(hub.pid)
            with open(bundle, "rb") as handle:
                encoder = MultipartEncoder(
                    fields=[
                        ("public", "False"),
                        ("private", "False"),
                        ("md5sum", digest.hexdigest()),
                        ("id", "Bench"),
                        ("file", ("filename", handle, "application/octet-stream")),
                    ]
                )
                start = time.perf_counter()
                response = requests.post(
                    url + "executor.push",
                    data=encoder,
                    headers={**HEADERS, "Content-Type": encoder.content_type},
                    stream=True,
                )
                lines = response.iter_lines()
                next(lines)
                uploaded = time.perf_counter() - start
                for _ in lines:
                    pass
                total = time.perf_counter() - start
            size_mb = bundle.stat().st_size / 1e6
            grown = (vm_hwm_kib(hub.pid) - before) / 1024
            rows.append(
                (
                    f"upload {size_mb:.0f} MB (streamed from disk)",
                    f"{size_mb / uploaded:.0f} MB/s to the first line; complete in {total:.1f} s; "
                    f"server peak RSS +{grown:.0f} MiB",
                )
            )
        finally:
            hub.stop()
    print("| measurement | result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nPython {sys.version.split()[0]}, {sys.platform}")


if __name__ == "__main__":
    main()
