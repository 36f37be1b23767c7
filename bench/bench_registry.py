"""Benchmark: push → image in the registry → pull on a second engine, with a self-hosted Hub.

Run: ``.venv/bin/python bench/bench_registry.py [--sizes 1,50,200] [--repeat 2]`` (podman, runc
and Debian's ``docker-registry`` installed; everything runs on 127.0.0.1).

The stack is the one docs/self-hosting.md describes: ``hubci hub serve --builder docker
--registry URL`` on a fixed port, a CNCF distribution registry whose ``auth: token`` trusts the
Hub, an Engine the Hub builds and pushes with, and a second, empty Engine per pull. For each
size, an executor whose ``FROM scratch`` image holds that many MB of random bytes (they do not
compress) is pushed private with ``hubci push``; the rows are:

* ``push``: ``hubci push`` from start to its exit: upload, build, the image pushed to the
  registry and tagged there (the build is done only when its image is in the registry);
* ``of which to the registry``: the Hub's pushImage step, from its stream;
* ``pull``: ``jina hub pull jinaai+docker://owner/Name:tag`` by the unmodified official client
  (its credential helper set up by ``jina auth login``) into an empty engine, to its exit;
  the image is then checked in that engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.engine import EngineService, start_engine  # noqa: E402
from testing.hub import ALICE, ALICE_TOKEN, USERS, start_hub_process  # noqa: E402
from testing.hubble import hubble_python, official_env, run_official  # noqa: E402
from testing.registry import TokenAuth, free_port, start_registry  # noqa: E402

DOCKERFILE = "FROM scratch\nCOPY config.yml executor.py /workspace/\nCOPY blob.bin /blob.bin\n"


def executor(folder: Path, megabytes: int, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yml").write_text(
        f"jtype: {name}\npy_modules:\n  - executor.py\nmetas:\n  name: {name}\n"
    )
    (folder / "executor.py").write_text(
        f"from jina import Executor\n\n\nclass {name}(Executor):\n    pass\n"
    )
    (folder / "README.md").write_text(f"# {name}\n")
    (folder / "Dockerfile").write_text(DOCKERFILE)
    with open(folder / "blob.bin", "wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1 << 20))
    return folder


def push(hub_url: str, folder: Path, tag: str) -> tuple[float, float, dict[str, Any]]:
    """Seconds of the whole push, seconds of its pushImage step, and its JSON result."""
    cmd = [str(ROOT / ".venv" / "bin" / "hubci"), "push", str(folder), "--hub-url", hub_url]
    cmd += ["--token", ALICE_TOKEN, "--private", "-t", tag, "--format", "json", "--verbose"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    step_start = step_end = None
    for line in proc.stderr:
        if "pushImage start" in line:
            step_start = time.perf_counter()
        elif "pushImage done" in line:
            step_end = time.perf_counter()
    out = proc.stdout.read() if proc.stdout else ""
    if proc.wait() != 0:
        sys.exit(f"the push failed: {out[-2000:]}")
    total = time.perf_counter() - started
    step = (step_end - step_start) if step_start and step_end else float("nan")
    return total, step, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,50,200", help="image payloads in MB")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--driver", default="overlay", help="engines' storage: overlay or vfs")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    python = hubble_python()
    work = Path(tempfile.mkdtemp(prefix="hubci-bench-registry-", dir="/var/tmp"))
    port = free_port()
    host = f"127.0.0.1:{port}"
    running: list[Any] = []
    try:
        builds = start_engine(
            work / "builds", insecure_registries=(host,), storage_driver=args.driver
        )
        running.append(builds)
        hub = start_hub_process(
            work / "hub",
            port=free_port(),
            users=USERS,
            args=["--builder", "docker", "--registry", f"http://{host}"],
            env={"DOCKER_HOST": builds.url},
        )
        running.append(hub)
        auth = TokenAuth(f"{hub.url}/v2/registry/token", work / "hub" / "registry-token.crt")
        running.append(start_registry(work / "registry", token_auth=auth, port=port))
        print(f"runs: {args.repeat} per size; medians; storage driver {args.driver}")
        print("| image payload | push (upload, build, to registry) | of which to the registry "
              "| official client pull, empty engine |")  # fmt: skip
        print("| ---: | ---: | ---: | ---: |")
        for size in sizes:
            totals, steps, pulls = [], [], []
            for n in range(args.repeat):
                name = f"Bench{size}x{n}"
                folder = executor(work / name, size, name)
                total, step, result = push(hub.url, folder, "v1")
                totals.append(total)
                steps.append(step)
                consumer: EngineService = start_engine(
                    work / f"pull-{name}", insecure_registries=(host,), storage_driver=args.driver
                )
                running.append(consumer)
                home = work / f"home-{name}"
                home.mkdir()
                env = official_env(hub.url, ALICE_TOKEN, home)
                env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
                env["DOCKER_HOST"] = consumer.url
                subprocess.run(
                    [str(python), "-m", "hubble", "login"], env=env, check=True,
                    capture_output=True, timeout=120,
                )  # fmt: skip
                started = time.perf_counter()
                done = run_official(
                    ["pull", f"jinaai+docker://{ALICE}/{name}:v1"], env=env, cwd=home
                )
                pulls.append(time.perf_counter() - started)
                reference = f"{host}/jinahub/{result['executor']['id']}:v1"
                client = consumer.client()
                try:
                    client.images.get(reference)  # the client says "done" even when it failed
                finally:
                    client.close()
                if done.returncode != 0:
                    sys.exit(f"the pull failed: {done.stderr[-2000:]}")
                consumer.stop()
                running.remove(consumer)
                shutil.rmtree(folder)
            print(
                f"| {size} MB | {statistics.median(totals):.2f} s | "
                f"{statistics.median(steps):.2f} s | {statistics.median(pulls):.2f} s |"
            )
    finally:
        for service in reversed(running):
            service.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
