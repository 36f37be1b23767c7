"""Benchmark: `hubci validate` on one executor against `python -c "import click, yaml"`.

The pre-commit hook must feel instant, so `hubci validate` may cost at most 1.5x the bare
start-up of a Python process that imports its two basic libraries. Both commands run
interleaved in the same session (so machine load hits both alike); the medians and their ratio
are printed. Usage:

    .venv/bin/python bench/bench_validate.py [--runs 21] [--folder examples/hello-executor]

Exit status 0 when the ratio is within the target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 1.5


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv} failed with {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="repetitions of each command")
    parser.add_argument("--folder", default="examples/hello-executor", help="executor folder")
    args = parser.parse_args()

    hubci = Path(sys.executable).parent / "hubci"
    validate = [str(hubci), "validate", args.folder]
    baseline = [sys.executable, "-c", "import click, yaml"]
    for argv in (validate, baseline):  # warm the page cache and the bytecode caches
        _time(argv)
    t_validate: list[float] = []
    t_baseline: list[float] = []
    for _ in range(args.runs):
        t_validate.append(_time(validate))
        t_baseline.append(_time(baseline))
    m_validate = statistics.median(t_validate)
    m_baseline = statistics.median(t_baseline)
    ratio = m_validate / m_baseline
    print(f"runs: {args.runs} each, interleaved; python {sys.version.split()[0]}")
    print(f"python -c 'import click, yaml'  median {m_baseline * 1000:7.1f} ms")
    print(f"hubci validate {args.folder}  median {m_validate * 1000:7.1f} ms")
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"ratio {ratio:.2f}x ({verdict} the {TARGET}x target)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
