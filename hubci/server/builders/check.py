"""The ``check`` builder: everything a docker build would find wrong, without Docker.

It parses the Dockerfile (``hubci.dockerfile``), checks that a ``FROM`` comes first, that every
build env the build uses is declared with ``ARG``, that ``COPY``/``ADD`` sources exist in the
build context, then plays the build out step by step with docker-like console lines and a
realistic duration. Build-env values are never printed: steps show instructions as written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from hubci import rules
from hubci.dockerfile import (
    DockerfileSyntaxError,
    Instruction,
    arg_names,
    copy_sources,
    outside_context,
    parse_dockerfile,
)
from hubci.server.builders import BuildJob, BuildOutcome, PushJob, ReuseJob

_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_REQ_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _fail(log: Callable[[str], None], reason: str) -> BuildOutcome:
    log(f"ERROR: {reason}")
    return BuildOutcome(ok=False, image_id=None, error=f"docker build exited with code 1: {reason}")


def _requirement_refs(folder: Path) -> list[str]:
    path = folder / "requirements.txt"
    if not path.is_file():
        return []
    found: list[str] = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for name in _REQ_REF.findall(line):
            if name not in found:
                found.append(name)
    return found


def _missing_source(folder: Path, source: str) -> bool:
    rel = PurePosixPath(source.lstrip("/"))
    if any(ch in source for ch in "*?["):
        return not any(folder.glob(str(rel)))
    return not (folder / rel).exists()


def _image_id(job: BuildJob, text: str) -> str:
    digest = hashlib.sha256()
    digest.update(job.platform.encode())
    digest.update(text.encode())
    for path in sorted(p for p in job.folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(job.folder).as_posix().encode())
        digest.update(str(path.stat().st_size).encode())
    return "sha256:" + digest.hexdigest()


class CheckBuilder:
    #: names, sizes, the Dockerfile and requirements.txt: what hubci.normalize.may_read allows
    reads_content = False

    def __init__(self, build_seconds: float = rules.HUB_DEFAULT_BUILD_SECONDS) -> None:
        self.build_seconds = max(0.0, build_seconds)

    def build(self, job: BuildJob, log: Callable[[str], None]) -> BuildOutcome:
        path = job.folder / job.dockerfile
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _fail(log, f"failed to read dockerfile: open {job.dockerfile}: no such file")
        except (OSError, UnicodeDecodeError) as exc:
            return _fail(log, f"failed to read dockerfile {job.dockerfile}: {exc}")
        try:
            instructions = parse_dockerfile(text)
        except DockerfileSyntaxError as exc:
            return _fail(log, f"dockerfile parse error on line {exc.line}: {exc.reason}")
        if not instructions:
            return _fail(log, f"the Dockerfile ({job.dockerfile}) cannot be empty")
        first = next((i for i in instructions if i.keyword != "ARG"), None)
        if first is None or first.keyword != "FROM":
            where = f" (line {first.line}: {first.keyword})" if first else ""
            return _fail(log, f"no build stage in current context: FROM must come first{where}")
        declared = arg_names(instructions)
        given = set(job.build_env)
        for name in _requirement_refs(job.folder):
            if name not in given:
                return _fail(
                    log,
                    f"requirements.txt uses ${{{name}}} but no build env {name} was given "
                    f"(push with --build-env {name}=VALUE)",
                )
            if name not in declared:
                return _fail(
                    log,
                    f"requirements.txt uses build env {name} but {job.dockerfile} does not "
                    f"declare `ARG {name}` (add it before the RUN that installs requirements)",
                )
        for ins in instructions:
            for braced, bare in _REF.findall(ins.value):
                name = braced or bare
                if name in given and name not in declared:
                    return _fail(
                        log,
                        f"line {ins.line}: {ins.keyword} uses build env {name} but "
                        f"{job.dockerfile} does not declare `ARG {name}`",
                    )
            if ins.keyword in ("COPY", "ADD"):
                for source in copy_sources(ins):
                    if outside_context(source):
                        return _fail(
                            log,
                            f"line {ins.line}: {ins.keyword} failed: forbidden path outside the "
                            f"build context: {source}",
                        )
                    if _missing_source(job.folder, source):
                        return _fail(
                            log,
                            f"line {ins.line}: {ins.keyword} failed: file not found in build "
                            f"context: {source}",
                        )
        return self._play(job, text, instructions, log)

    def _play(
        self, job: BuildJob, text: str, instructions: list[Instruction], log: Callable[[str], None]
    ) -> BuildOutcome:
        image_id = _image_id(job, text)
        step_seconds = self.build_seconds / len(instructions)
        fail_at = next(
            (n for n, i in enumerate(instructions) if i.keyword == "RUN"), len(instructions) - 1
        )
        log(f"Sending build context to Docker daemon for {job.platform}")
        total = len(instructions)
        for number, ins in enumerate(instructions):
            shown = ins.value.split("\n", 1)[0]
            log(f"Step {number + 1}/{total} : {ins.keyword} {shown}")
            if job.cancel.wait(step_seconds):
                return _fail(log, "the build was cancelled: the Hub is stopping")
            if job.inject_failure and number == fail_at:
                log(f"/bin/sh: 1: simulated failure for {job.platform} (fault fail-build)")
                return BuildOutcome(
                    ok=False,
                    image_id=None,
                    error=(
                        f"docker build exited with code 1: The command '/bin/sh -c {shown}' "
                        "returned a non-zero code: 1"
                    ),
                )
            layer = hashlib.sha256(f"{image_id}{number}".encode()).hexdigest()[:12]
            if ins.keyword == "RUN":
                log(f" ---> Running in {layer[::-1]}")
            log(f" ---> {layer}")
        log(f"Successfully built {image_id[7:19]}")
        for tag in job.tags:
            log(f"Successfully tagged {job.image}:{tag}")
        return BuildOutcome(ok=True, image_id=image_id, error=None)

    def reuse(self, job: ReuseJob, log: Callable[[str], None]) -> bool:
        """No images are kept by this builder: the earlier build's tags are only named."""
        for tag in job.tags:
            log(f"Successfully tagged {job.image}:{tag}")
        return True

    def push(self, job: PushJob, log: Callable[[str], None]) -> str | None:  # noqa: ARG002
        """It makes no images, so there is nothing to push (hub serve refuses --registry
        with this builder)."""
        return f"the check builder makes no image to push as {job.reference}"
