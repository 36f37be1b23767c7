"""Benchmark: how long a job waits before the Action runs: prebuilt image or `image: Dockerfile`.

Run: ``.venv/bin/python bench/bench_action_start.py [--repeat 3]`` (podman, runc, debootstrap and
Debian's ``docker-registry`` installed; everything runs on 127.0.0.1).

* ``build``: what ``image: Dockerfile`` makes the runner do in every job: build the image from
  the Dockerfile, cold (no layer cache). The base comes from a local stand-in
  (testing/action_image.py) instead of a pull of python:3.12-slim-bookworm, and the locked
  wheels from a folder on 127.0.0.1 instead of PyPI, so the real runner's time is this plus
  those downloads.
* ``prebuilt``: what a release's ``image: docker://…@sha256:…`` makes it do: pull the image from
  a registry (CNCF distribution on 127.0.0.1, as a stand-in for ghcr.io) into an empty engine,
  start the container as the runner does, and wait for ``hubci action``'s first line.

Also prints the image's compressed size (the registry's layer blobs) and what each layer adds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.action_image import IMAGE, build_action_image, image_layers  # noqa: E402
from testing.engine import EngineService, start_engine  # noqa: E402
from testing.registry import free_port, start_registry  # noqa: E402

MEDIA = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def compressed_layers(port: int, name: str, tag: str) -> list[int]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v2/{name}/manifests/{tag}", headers={"Accept": MEDIA}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        manifest = json.load(answer)
    return [int(layer["size"]) for layer in manifest["layers"]]


def first_line_seconds(client: Any, ref: str, workspace: Path) -> tuple[float, float]:
    """(pull seconds, start-to-first-line seconds) into an engine that has nothing yet."""
    started = time.perf_counter()
    client.images.pull(ref)
    pulled = time.perf_counter()
    container = client.containers.run(
        ref,
        environment={
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/1/merge",
            "INPUT_MODE": "validate",
            "INPUT_PATH": ".",
        },
        volumes={str(workspace): {"bind": "/github/workspace", "mode": "rw"}},
        working_dir="/github/workspace",
        network_mode="none",
        detach=True,
    )
    try:
        while not container.logs(stdout=True, stderr=True):
            time.sleep(0.02)
        first = time.perf_counter()
    finally:
        container.remove(force=True)
    return pulled - started, first - pulled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--driver",
        default="overlay",
        help="the engines' storage driver: overlay (as Docker on a runner), or vfs",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hubci-bench-start-", dir="/var/tmp"))
    port = free_port()
    registry = start_registry(work / "registry", port=port)
    engines: list[EngineService] = []
    try:
        registries = (f"127.0.0.1:{port}",)
        builder = start_engine(
            work / "b", insecure_registries=registries, storage_driver=args.driver
        )
        engines.append(builder)
        client = builder.client()
        builds: list[float] = []
        for _ in range(args.repeat):
            for image in client.images.list():
                client.images.remove(image.id, force=True)
            started = time.perf_counter()
            build_action_image(client)
            builds.append(time.perf_counter() - started)
        layers = image_layers(client, IMAGE)
        repository = f"127.0.0.1:{port}/hubci-action"
        ref = f"{repository}:bench"
        client.images.get(IMAGE).tag(repository, "bench")
        client.images.push(repository, "bench")
        blobs = compressed_layers(port, "hubci-action", "bench")
        workspace = work / "workspace"
        shutil.copytree(ROOT / "examples" / "hello-executor", workspace)
        pulls: list[float] = []
        starts: list[float] = []
        for n in range(args.repeat):
            fresh = start_engine(
                work / f"p{n}", insecure_registries=registries, storage_driver=args.driver
            )
            engines.append(fresh)
            pull, start = first_line_seconds(fresh.client(), ref, workspace)
            pulls.append(pull)
            starts.append(start)
        build = statistics.median(builds)
        prebuilt = statistics.median(p + s for p, s in zip(pulls, starts, strict=True))
        print(f"runs: {args.repeat}; medians; storage driver {args.driver}")
        print("| path | seconds |")
        print("| --- | ---: |")
        print(f"| image: Dockerfile (cold build, base and wheels local) | {build:.1f} |")
        print(f"| prebuilt: pull from a loopback registry | {statistics.median(pulls):.1f} |")
        print(
            f"| prebuilt: container start to hubci's first line | {statistics.median(starts):.1f} |"
        )
        print(f"| prebuilt in all | {prebuilt:.1f} |")
        print(f"\ncompressed image: {sum(blobs) / 1e6:.1f} MB in {len(blobs)} layers")
        print("layers, oldest first (compressed, uncompressed, instruction):")
        built = [layer for layer in reversed(layers) if layer[1]]
        for blob, (instruction, size) in zip(blobs, built, strict=False):
            print(f"  {blob / 1e6:7.1f} MB {size / 1e6:7.1f} MB  {instruction[:90]}")
    finally:
        for engine in engines:
            engine.stop()
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
