"""Benchmark: push big executor folders to a local Hub with hubci and with the official client.

Run: ``.venv/bin/python bench/bench_push.py [--sizes 50,200,1000] [--small 1000] [--repeat 1]``

For each size (MB of random, incompressible data in model-weight-like files, plus ``--small``
small text files in nested folders) the same folder is pushed, in one run, to one local Hub
subprocess (``hubci hub serve --build-seconds 0``, so the build itself costs nothing):

* ``hubci``: ``python -m hubci push FOLDER --hub-url URL --no-cache`` (validate, bundle, upload,
  follow; ``--no-cache`` so every run is a full upload and ingest, never skipped or reused);
* ``official``: ``jina-hubble-sdk==0.39.0``'s ``push`` from its own venv (testing/hubble.py);
* ``floor``: read every file of the folder in 1 MiB chunks and send that many bytes (the
  bundle's size) over a loopback TCP connection to a sink: what any client must at least do.

The local Hub's own work (receiving and checking the upload, unpacking, normalizing) is in both
clients' times and not in the floor. To show each client's own cost, both are also run against
a *null Hub*: a loopback HTTP server that reads and discards the upload and answers at once.

Each client runs as a subprocess; its wall time is measured around it and its peak RSS is
``ru_maxrss`` from ``os.wait4``. Both pushes must end with a succeeded build. Times are the best
of ``--repeat``; the page cache is warm for all three (the folder is read once beforehand).
Then the same folder is pushed twice more without ``--no-cache``: the second push is a re-run of
a release job with nothing changed, which must end ``unchanged`` (timed as "re-push").
Prints markdown tables (docs/push.md and docs/benchmarks.md quote them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.hub import start_hub_process  # noqa: E402
from testing.hubble import hubble_python, official_env  # noqa: E402

MB = 1000 * 1000
CHUNK = 1024 * 1024
USER = "bench"
TOKEN = "bench-token-0a1b2c3d4e"
EXAMPLE = ROOT / "examples" / "hello-executor"


@dataclass
class Measure:
    seconds: float
    peak_rss_mb: float | None
    ok: bool
    note: str = ""


def make_folder(root: Path, *, size_mb: int, small: int) -> Path:
    folder = root / f"exec-{size_mb}mb"
    shutil.copytree(EXAMPLE, folder)
    rng = random.Random(size_mb)
    weights = folder / "weights"
    weights.mkdir()
    remaining = size_mb * MB
    index = 0
    while remaining > 0:
        part = min(remaining, 64 * MB)
        with open(weights / f"shard-{index:03d}.bin", "wb") as out:
            left = part
            while left > 0:
                piece = min(left, CHUNK)
                out.write(rng.randbytes(piece))
                left -= piece
        remaining -= part
        index += 1
    for i in range(small):
        sub = folder / "assets" / f"group{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        text = f"# note {i}\n" + "lorem ipsum dolor sit amet\n" * rng.randint(5, 80)
        (sub / f"note{i:05d}.txt").write_text(text)
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class NullHub(ThreadingHTTPServer):
    """Answers whoami, swallows uploads (1 MiB reads), says the build completed."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _NullHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _NullHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, CHUNK))
            if not chunk:
                break
            left -= len(chunk)
        method = self.path.rsplit("/", 1)[-1]
        if method == "user.identity.whoami":
            body = b'{"code":200,"status":20000,"data":{"name":"bench","nickname":"bench"}}'
            kind = "application/json"
            code = 200
        elif method in ("executor.push", "executor.update"):
            body = (
                b'{"type":"init","subject":"createExecutor","message":"ok"}\n'
                b'{"type":"complete","subject":"createExecutor","message":"ok","payload":'
                b'{"id":"abcd1234","name":"HelloExecutor","visibility":"public",'
                b'"owner":{"name":"bench"},"commit":{"tags":["latest"]}}}\n'
            )
            kind = "application/x-ndjson"
            code = 201
        else:
            body = b'{"code":200,"status":20000,"data":[]}'
            kind = "application/json"
            code = 200
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[Measure, str, str]:
    """Run ``cmd``; wall time and peak RSS (ru_maxrss of that child only, via wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    rss_mb = usage.ru_maxrss * 1024 / MB  # Linux: KiB
    return Measure(seconds, rss_mb, proc.returncode == 0), stdout, stderr


def floor(folder: Path, total_bytes: int, *, digests: bool = False) -> Measure:
    """Read every file and send ``total_bytes`` over loopback to a sink thread; with
    ``digests`` also CRC-32 (zip entries) and MD5 (``md5sum``) every byte, as the protocol
    requires of any client."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    received = [0]

    def sink() -> None:
        conn, _ = server.accept()
        buf = bytearray(CHUNK)
        with conn:
            while True:
                n = conn.recv_into(buf)
                if not n:
                    break
                received[0] += n

    thread = threading.Thread(target=sink)
    thread.start()
    start = time.perf_counter()
    sent = 0
    md5 = hashlib.md5()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for path in files_of(folder):
            crc = 0
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    if digests:
                        crc = zlib.crc32(chunk, crc)
                        md5.update(chunk)
                    sock.sendall(chunk)
                    sent += len(chunk)
        padding = bytes(min(CHUNK, max(0, total_bytes - sent)))
        while sent < total_bytes:
            piece = padding[: total_bytes - sent]
            sock.sendall(piece)
            sent += len(piece)
    thread.join()
    seconds = time.perf_counter() - start
    server.close()
    return Measure(seconds, None, received[0] == sent)


def push_hubci(
    folder: Path, url: str, *extra: str, expect: str = "succeeded"
) -> tuple[Measure, int]:
    """``extra``: ``--no-cache`` for a full ingest (no skip, no reuse at the Hub); without it a
    second push of the same folder is the re-push of unchanged content (status ``unchanged``)."""
    env = {**os.environ, "JINA_AUTH_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "hubci", "push", str(folder), "--hub-url", url, "--format", "json"]
    measure, out, err = run_measured([*cmd, *extra], env, folder.parent)
    size = 0
    if measure.ok:
        import json

        result = json.loads(out)
        size = int(result["bundle"]["size"])
        if result["status"] != expect:
            measure.ok = False
            measure.note = f"status {result['status']}, not {expect}"
    else:
        measure.note = err.strip().splitlines()[-1] if err.strip() else "failed"
    return measure, size


def push_official(folder: Path, url: str, home: Path) -> Measure:
    env = official_env(url, TOKEN, home)
    # --no-cache: a full build each time (the local Hub would otherwise reuse hubci's build)
    cmd = [str(hubble_python()), "-m", "hubble.executor", "push", folder.name, "--no-cache"]
    measure, out, err = run_measured(cmd, env, folder.parent)
    if not measure.ok:
        measure.note = (err or out).strip().splitlines()[-1] if (err or out).strip() else "failed"
    return measure


def best(measures: list[Measure]) -> Measure:
    good = [m for m in measures if m.ok] or measures
    return min(good, key=lambda m: m.seconds)


def _row(label: str, h: Measure, o: Measure, f: Measure, fd: Measure) -> str:
    notes = (f" hubci: {h.note}" if not h.ok else "") + (f" official: {o.note}" if not o.ok else "")
    return (
        f"| {label} | {h.seconds:.2f} s | {h.peak_rss_mb:.0f} MB "
        f"| {o.seconds:.2f} s | {o.peak_rss_mb:.0f} MB | {f.seconds:.2f} s | {fd.seconds:.2f} s "
        f"| {h.seconds / f.seconds:.1f}x | {h.seconds / fd.seconds:.1f}x "
        f"| {o.seconds / h.seconds:.2f}x |{notes}"
    )


HEADER = (
    "| bundle | hubci wall | hubci peak RSS | official wall | official peak RSS | floor "
    "| floor + crc32 + md5 | hubci / floor | hubci / (floor + digests) | official / hubci |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,200,1000", help="bundle sizes in MB, comma list")
    parser.add_argument("--small", type=int, default=1000, help="small files per folder")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="where folders are generated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    hubble_python()  # install the official client before any timing
    work = Path(tempfile.mkdtemp(prefix="hubci-bench-push-", dir=args.workdir))
    local_rows: list[str] = []
    null_rows: list[str] = []
    ingest_rows: list[str] = []
    null = NullHub()
    try:
        hub = start_hub_process(
            work / "hub", users={USER: TOKEN}, args=["--build-seconds", "0", "--workers", "1"]
        )
        try:
            for size_mb in sizes:
                folder = make_folder(work, size_mb=size_mb, small=args.small)
                floor(folder, size_mb * MB)  # warm the page cache
                home = work / f"official-home-{size_mb}"
                home.mkdir()
                label = f"{size_mb} MB + {args.small} small files"
                runs: dict[str, list[Measure]] = {}
                bundle_size = size_mb * MB
                for _ in range(args.repeat):
                    for target, url in (("null", null.url), ("local", hub.url)):
                        measure, bundle_size = push_hubci(folder, url, "--no-cache")
                        runs.setdefault(f"hubci-{target}", []).append(measure)
                        measure = push_official(folder, url, home)
                        runs.setdefault(f"official-{target}", []).append(measure)
                    total = bundle_size or size_mb * MB
                    runs.setdefault("floor", []).append(floor(folder, total))
                    runs.setdefault("digests", []).append(floor(folder, total, digests=True))
                # the same folder again, as a re-run of a release job: nothing changed
                push_hubci(folder, hub.url)  # a normal push, so the Hub has this very build
                for _ in range(args.repeat):
                    again, _ = push_hubci(folder, hub.url, expect="unchanged")
                    runs.setdefault("repush", []).append(again)
                f, fd = best(runs["floor"]), best(runs["digests"])
                end_to_end, alone = best(runs["hubci-local"]), best(runs["hubci-null"])
                repush = best(runs["repush"])
                ingest_rows.append(
                    f"| {label} | {end_to_end.seconds:.2f} s | {alone.seconds:.2f} s "
                    f"| {end_to_end.seconds / alone.seconds:.2f}x | {repush.seconds:.2f} s"
                    + ("" if repush.ok else f" ({repush.note})")
                    + " |"
                )
                print("ingest:   ", ingest_rows[-1], flush=True)
                null_rows.append(
                    _row(label, best(runs["hubci-null"]), best(runs["official-null"]), f, fd)
                )
                local_rows.append(
                    _row(label, best(runs["hubci-local"]), best(runs["official-local"]), f, fd)
                )
                print("null Hub: ", null_rows[-1], flush=True)
                print("local Hub:", local_rows[-1], flush=True)
                shutil.rmtree(folder)
        finally:
            hub.stop()
    finally:
        null.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\nPush to the local Hub (upload, Hub-side checks and unpacking, build, result):\n")
    print(HEADER)
    print("\n".join(local_rows))
    print("\nClient cost alone (a null Hub that discards the upload and answers at once):\n")
    print(HEADER)
    print("\n".join(null_rows))
    print("\nhubci end to end against hubci alone (target 1.5x), and a re-push of unchanged")
    print("content (target under 1 s):\n")
    print(
        "| bundle | end to end (local Hub) | hubci alone (null Hub) | ratio | re-push unchanged |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(ingest_rows))


if __name__ == "__main__":
    main()
