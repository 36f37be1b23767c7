"""Benchmark: `hubci validate` on one executor against `python -c "import click, yaml"`.

The pre-commit hook must feel instant, so `hubci validate` may cost at most 1.5x the bare
start-up of a Python process that imports its two basic libraries. Both commands run
interleaved in the same session (so machine load hits both alike); the medians and their ratio
are printed, of wall-clock time (the verdict) and of CPU time (user + system of the child,
steadier than wall time on a shared machine). Usage:

    .venv/bin/python bench/bench_validate.py [--runs 31] [--folder examples/hello-executor]

The verdict is for the hook as a developer meets it: run after run on the same repository,
with hubci's cache of .gitignore translations warm (hubci/bundle/patterncache.py). The first
run on a machine (an empty cache, as in a fresh CI container) is measured as well and printed
for information: it also imports pathspec.

Exit status 0 when the ratio is within the target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 1.5


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str], cache: Path) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one run of ``argv`` (``cache``: XDG_CACHE_HOME)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv} failed with {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31, help="repetitions of each command")
    parser.add_argument("--folder", default="examples/hello-executor", help="executor folder")
    args = parser.parse_args()

    hubci = Path(sys.executable).parent / "hubci"
    validate = [str(hubci), "validate", args.folder]
    baseline = [sys.executable, "-c", "import click, yaml"]
    # A regular `pip install` byte-compiles the package; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE would recompile hubci from source on every start instead.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "hubci")], check=True)
    commands = {"validate": validate, "baseline": baseline, "cold": validate}
    times: dict[str, list[float]] = {key: [] for key in commands}
    cpu: dict[str, list[float]] = {key: [] for key in commands}
    with tempfile.TemporaryDirectory() as tmp:
        warm, cold = Path(tmp) / "warm", Path(tmp) / "cold"
        for argv in commands.values():  # warm the page cache (and hubci's own cache)
            _time(argv, warm)
        for _ in range(args.runs):
            for key, argv in commands.items():
                if key == "cold":
                    shutil.rmtree(cold, ignore_errors=True)
                wall, used = _time(argv, cold if key == "cold" else warm)
                times[key].append(wall)
                cpu[key].append(used)
    median = {key: statistics.median(values) * 1000 for key, values in times.items()}
    best = {key: min(values) * 1000 for key, values in times.items()}
    cpu_median = {key: statistics.median(values) * 1000 for key, values in cpu.items()}
    ratio = median["validate"] / median["baseline"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"runs: {args.runs} each, interleaved; python {sys.version.split()[0]}; load {load}")
    print(f"{'':<40} median     min   cpu median")
    for key, label in (
        ("baseline", "python -c 'import click, yaml'"),
        ("validate", f"hubci validate {args.folder}"),
        ("cold", "  the same, first run (empty cache)"),
    ):
        print(f"{label:<40} {median[key]:6.1f}  {best[key]:6.1f}   {cpu_median[key]:6.1f} ms")
    print(f"first run on a machine: {median['cold'] / median['baseline']:.2f}x (not the verdict)")
    print(f"ratio of the minimums {best['validate'] / best['baseline']:.2f}x")
    print(f"ratio of the CPU-time medians {cpu_median['validate'] / cpu_median['baseline']:.2f}x")
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"ratio of the medians {ratio:.2f}x ({verdict} the {TARGET}x target)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
