"""Benchmark: select and zip a big executor folder; time, throughput and peak memory.

Run: ``.venv/bin/python bench/bench_bundle.py [--big-mb 200] [--small 2000] [--repeat 3]``

Generates a folder with ``--big-mb`` MB of random data (model-weight-like ``.bin`` files plus one
random file with no extension, so the 64 KiB sample test runs) and ``--small`` small text and
code files in nested folders. Each measurement runs in a fresh interpreter so its peak RSS
(``VmHWM``) is its own; times are the best of ``--repeat`` runs on a warm page cache:

* ``baseline``: start Python and import ``hubci.bundle`` (the RSS every row starts from);
* ``read floor``: read every selected file in 1 MiB chunks and discard it (the disk/page-cache
  floor any bundler pays);
* ``collect_files``: the walk with ignore rules and link checks alone;
* ``hubci bundle``: ``collect_files`` + ``write_bundle`` (streamed zip, md5 while writing);
* ``in-memory zip``: a re-implementation of what the official client does (everything DEFLATEd
  into a BytesIO, md5 of the bytes), for comparison.

CPU time (user + system of the measuring process) is shown beside wall time: it is the steadier
figure on a shared machine. The output is a markdown table (docs/bundle.md quotes it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

MB = 1024 * 1024
CHUNK = MB


def make_folder(root: Path, *, big_mb: int, small: int) -> None:
    rng = random.Random(42)
    (root / "config.yml").write_text("jtype: Big\npy_modules:\n  - executor.py\n")
    (root / "executor.py").write_text(
        "from jina import Executor\n\n\nclass Big(Executor):\n    pass\n"
    )
    (root / ".gitignore").write_text("__pycache__/\n*.log\n")
    remaining = big_mb * MB
    sizes = [remaining // 2, remaining // 4, remaining - remaining // 2 - remaining // 4]
    names = ["models/weights.bin", "models/head.bin", "data/blob"]
    for name, size in zip(names, sizes, strict=True):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            left = size
            while left:
                n = min(CHUNK, left)
                fh.write(rng.randbytes(n))
                left -= n
    words = ["index", "search", "embed", "docs", "tensor", "score", "model", "batch", "vector"]
    for i in range(small):
        sub = root / "pkg" / f"mod{i % 20:02d}" / f"part{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        body = " ".join(rng.choice(words) for _ in range(rng.randint(20, 400)))
        suffix = ".py" if i % 3 else ".txt"
        (sub / f"f{i:05d}{suffix}").write_text(f"# file {i}\n{body}\n")


def vm_hwm_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(kind: str, folder: Path, out: Path) -> dict[str, object]:
    from hubci.bundle import collect_files, write_bundle

    start = time.perf_counter()
    cpu_start = cpu_seconds()
    result: dict[str, object] = {}
    if kind == "collect":
        files = collect_files(folder)
        result["files"] = len(files.entries)
    elif kind == "read":
        files = collect_files(folder)
        start = time.perf_counter()  # the floor is the reading only
        cpu_start = cpu_seconds()
        total = 0
        for entry in files.entries:
            with open(entry.path, "rb") as fh:
                while block := fh.read(CHUNK):
                    total += len(block)
        result["bytes"] = total
    elif kind == "bundle":
        bundle = write_bundle(collect_files(folder), out)
        result["bytes"] = bundle.content_bytes
        result["zip"] = bundle.size
        result["md5"] = bundle.md5
    elif kind == "memory":
        files = collect_files(folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for entry in files.entries:
                zf.write(entry.path, entry.relpath)
        data = buf.getvalue()
        result["md5"] = hashlib.md5(data).hexdigest()
        result["zip"] = len(data)
        result["bytes"] = files.content_bytes
    result["seconds"] = time.perf_counter() - start
    result["cpu"] = cpu_seconds() - cpu_start
    result["hwm_kib"] = vm_hwm_kib()
    return result


def run_child(kind: str, folder: Path, out: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(folder), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "FOLDER", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        kind, folder, out = args.child
        if kind == "baseline":
            import hubci.bundle  # noqa: F401  (the import is what is measured)

            print(json.dumps({"seconds": 0.0, "cpu": 0.0, "hwm_kib": vm_hwm_kib()}))
        else:
            print(json.dumps(child(kind, Path(folder), Path(out))))
        return

    with tempfile.TemporaryDirectory(prefix="hubci-bench-bundle-") as tmp:
        folder = Path(tmp) / "executor"
        folder.mkdir()
        make_folder(folder, big_mb=args.big_mb, small=args.small)
        out = Path(tmp) / "bundle.zip"
        run_child("read", folder, out)  # warm the page cache
        rows: list[tuple[str, dict[str, object]]] = []
        md5s: set[str] = set()
        for label, kind in (
            ("baseline (python + import hubci.bundle)", "baseline"),
            ("read floor (read every file)", "read"),
            ("collect_files", "collect"),
            ("hubci bundle (collect + write_bundle)", "bundle"),
            ("in-memory zip, all DEFLATE (official-client style)", "memory"),
        ):
            runs = [run_child(kind, folder, out) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: float(str(r["seconds"])))
            best["hwm_kib"] = max(int(str(r["hwm_kib"])) for r in runs)
            if kind == "bundle":
                md5s.update(str(r["md5"]) for r in runs)
                os.utime(folder / "executor.py")  # touching must not change the md5
                md5s.add(str(run_child(kind, folder, out)["md5"]))
            rows.append((label, best))

    print(f"Bundle benchmark: {args.big_mb} MB random data + {args.small} small files, ", end="")
    print(f"best of {args.repeat}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("| step | time (s) | CPU (s) | throughput (MB/s) | zip size (MB) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows:
        seconds = float(str(r["seconds"]))
        nbytes = int(str(r.get("bytes", 0)))
        rate = f"{nbytes / MB / seconds:.0f}" if nbytes and seconds else "-"
        size = f"{int(str(r['zip'])) / MB:.1f}" if "zip" in r else "-"
        rss = int(str(r["hwm_kib"])) / 1024
        cpu = float(str(r["cpu"]))
        print(f"| {label} | {seconds:.2f} | {cpu:.2f} | {rate} | {size} | {rss:.0f} |")
    verdict = "identical" if len(md5s) == 1 else f"DIFFERENT ({len(md5s)} values)"
    print(f"\nhubci bundle md5 over {args.repeat + 1} runs (one after touching a file): {verdict}")


if __name__ == "__main__":
    main()
