"""The one builder: a normalized bundle folder -> one image per platform through the Engine API.

Used by ``hubci build`` and by the local Hub's ``--builder docker``. Each platform is its own
classic Engine build (no BuildKit/buildx here). Build envs go to the build as build args, the
way the Hub hands them to its builder; their values are masked in every log line and error, and
:mod:`hubci.image.scrub` keeps them out of the image history and configuration.

A platform other than the Engine's own is always built with ``nocache``: podman (and the classic
builder) would otherwise reuse a cached layer of the native platform and report the wrong
architecture.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubci.image import scrub
from hubci.image.engine import EngineInfo, normalize_arch
from hubci.output.redact import redact
from hubci.secret import Secret

LogFn = Callable[[str], None]

#: ``Step 3/6 : RUN …`` (Docker) or ``STEP 3/6: RUN …`` (podman/buildah).
STEP_LINE = re.compile(r"^(?:Step|STEP)\s+(?P<n>\d+)/(?P<of>\d+)\s*:\s*(?P<instr>.*)$")
#: podman appends a Go dump of the parsed step to some errors; it repeats the step shown already.
_ENGINE_NOISE = re.compile(r"\s*&imagebuilder\.Step\{.*$")
NO_EMULATION = ("exec format error", "exec user process caused")
EMULATION_HINT = (
    "register QEMU emulators on the Engine host, e.g. "
    "`docker run --privileged --rm tonistiigi/binfmt --install all`"
)


@dataclass(frozen=True)
class BuildSpec:
    """What to build: the normalized folder, the Dockerfile in it, build envs and cache use."""

    context: Path
    dockerfile: str = "Dockerfile"
    build_env: Mapping[str, Secret] = field(default_factory=dict)
    no_cache: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    def env_values(self) -> dict[str, str]:
        return {key: value.reveal() for key, value in self.build_env.items()}


@dataclass
class PlatformBuild:
    """The outcome of one platform's build; ``error`` is None on success."""

    platform: str
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    size: int | None = None
    duration_s: float = 0.0
    log: list[str] = field(default_factory=list)
    error: str | None = None
    failed_step: str | None = None
    step_output: list[str] = field(default_factory=list)
    no_cache_forced: bool = False
    history_redacted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "image_id": self.image_id,
            "tags": list(self.tags),
            "size": self.size,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
        }


def same_platform(built: str, wanted: str) -> bool:
    """``linux/arm64/v8`` is ``linux/arm64``; an image without a variant matches any variant
    (podman's compat API does not report one)."""
    built_parts, wanted_parts = built.split("/"), wanted.split("/")
    common = min(len(built_parts), len(wanted_parts))
    return built_parts[:2] == wanted_parts[:2] and built_parts[:common] == wanted_parts[:common]


def platform_slug(platform: str) -> str:
    """``linux/arm/v7`` -> ``linux-arm-v7`` (usable in a tag)."""
    return platform.replace("/", "-")


def _lines(events: Iterator[dict[str, Any]], state: _StreamState) -> Iterator[str]:
    """Whole log lines from the Engine's JSON events; records the image id and the error."""
    pending = ""
    for event in events:
        if "stream" in event:
            pending += str(event["stream"])
            *done, pending = pending.split("\n")
            yield from done
        elif "status" in event:
            yield str(event["status"]) + (f" {event['progress']}" if event.get("progress") else "")
        if "aux" in event and isinstance(event["aux"], dict) and "ID" in event["aux"]:
            state.image_id = str(event["aux"]["ID"])
        if "error" in event or "errorDetail" in event:
            detail = event.get("errorDetail") or {}
            state.error = str(detail.get("message") or event.get("error") or "build failed")
    if pending:
        yield pending


@dataclass
class _StreamState:
    image_id: str | None = None
    error: str | None = None
    step: str | None = None
    step_output: list[str] = field(default_factory=list)


def build_platform(
    client: Any,
    engine: EngineInfo,
    spec: BuildSpec,
    platform: str,
    *,
    tags: Sequence[str] = (),
    log: LogFn | None = None,
    cancel: threading.Event | None = None,
) -> PlatformBuild:
    """Build ``spec`` for one platform and tag the image; a failed build is a result, not raised.

    Log lines (values masked) go to ``log`` as they arrive and into the result. When ``cancel``
    is set the build stops following the Engine and fails.
    """
    import docker.errors
    import requests.exceptions

    started = time.monotonic()
    values = spec.env_values()
    mask = redact  # build envs are Secrets: registered with the one redactor
    refs = list(tags) or [f"hubci-build-{secrets.token_hex(4)}:{platform_slug(platform)}"]
    result = PlatformBuild(platform=platform, tags=list(tags))
    result.no_cache_forced = platform != engine.platform and not spec.no_cache
    state = _StreamState()

    def emit(line: str) -> None:
        line = mask(line.rstrip("\r"))
        result.log.append(line)
        if STEP_LINE.match(line):
            state.step, state.step_output = line, []
        elif state.step is not None:
            state.step_output.append(line)
        if log is not None:
            log(line)

    try:
        events = client.api.build(
            path=str(spec.context),
            dockerfile=spec.dockerfile,
            tag=refs[0],
            buildargs=values or None,
            labels=dict(spec.labels) or None,
            nocache=spec.no_cache or result.no_cache_forced,
            rm=True,
            forcerm=True,
            pull=False,
            platform=platform,
            decode=True,
        )
        for line in _lines(events, state):
            emit(line)
            if cancel is not None and cancel.is_set():
                events.close()
                state.error = "the build was cancelled"
                break
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        state.error = getattr(exc, "explanation", None) or str(exc)
    if state.error is None and state.image_id is None:
        state.error = "the Engine finished the build without reporting an image id"
    if state.error is not None:
        _fail(result, state, mask(state.error.strip()), platform)
    else:
        assert state.image_id is not None
        try:
            _finish(client, result, state.image_id, refs, values, platform, mask)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            OSError,
        ) as exc:
            # never leave behind an image whose history may still hold a value
            _discard(client, state.image_id)
            reason = mask(str(getattr(exc, "explanation", None) or exc).splitlines()[0])
            result.image_id, result.size = None, None
            result.error = (
                f"the image was built but could not be finished, so it was removed: {reason}"
            )
    if result.error is not None:
        result.tags = []  # nothing carries them: report no tags rather than names of no image
    result.duration_s = time.monotonic() - started
    return result


def _fail(result: PlatformBuild, state: _StreamState, error: str, platform: str) -> None:
    result.failed_step = state.step
    result.step_output = [*state.step_output, error]
    first = error.splitlines()[0] if error else "build failed"
    first = _ENGINE_NOISE.sub("", first)
    haystack = "\n".join(result.step_output).lower()
    if any(marker in haystack for marker in NO_EMULATION):
        result.error = (
            f"the Engine cannot build {platform}: it cannot run {platform} binaries "
            f"(no emulation); {EMULATION_HINT}"
        )
    elif "platform" in first.lower() and not state.step:
        result.error = f"the Engine cannot build {platform}: {first}"
    elif state.step:
        match = STEP_LINE.match(state.step)
        assert match is not None
        result.error = f"step {match['n']}/{match['of']} `{match['instr'].strip()}` failed: {first}"
    else:
        result.error = first


def _discard(client: Any, image_id: str) -> None:
    import docker.errors
    import requests.exceptions

    try:
        client.images.remove(image_id, force=True)
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass


def _finish(
    client: Any,
    result: PlatformBuild,
    image_id: str,
    refs: list[str],
    values: Mapping[str, str],
    platform: str,
    mask: Callable[[str], str],
) -> None:
    image = client.images.get(image_id)
    arch = normalize_arch(str(image.attrs.get("Architecture", "")))
    variant = image.attrs.get("Variant")
    built = f"{image.attrs.get('Os', 'linux')}/{arch}" + (f"/{variant}" if variant else "")
    if not same_platform(built, platform):
        client.images.remove(image_id, force=True)
        result.error = f"the Engine cannot build {platform}: it produced a {built} image"
        return
    leaks = scrub.config_leaks(image.attrs, values)
    if leaks:
        client.images.remove(image_id, force=True)
        result.error = mask(
            f"{leaks[0].describe()}; refusing the image (use build envs only in RUN steps, "
            "never in ENV, LABEL, ENTRYPOINT, CMD, USER, WORKDIR or VOLUME)"
        )
        return
    if scrub.history_leaks(image.history(), values):
        image_id = scrub.rewrite_image(client, image_id, values, refs[0])
        result.history_redacted = True
    for ref in refs[1:]:
        repo, _, tag = ref.rpartition(":")
        client.api.tag(image_id, repo, tag)
    image = client.images.get(image_id)
    result.image_id = image_id
    result.size = int(image.attrs.get("Size") or 0)
    if not result.tags:
        result.tags = refs


def build_platforms(
    client: Any,
    engine: EngineInfo,
    spec: BuildSpec,
    platforms: Sequence[str],
    *,
    tags_for: Callable[[str], Sequence[str]],
    log: Callable[[str, str], None] | None = None,
) -> list[PlatformBuild]:
    """One build per platform, in order; a failed platform does not stop the next one."""
    results: list[PlatformBuild] = []
    for platform in platforms:

        def platform_log(line: str, platform: str = platform) -> None:
            if log is not None:
                log(platform, line)

        results.append(
            build_platform(
                client, engine, spec, platform, tags=tags_for(platform), log=platform_log
            )
        )
    return results


def remove_images(client: Any, builds: Iterable[PlatformBuild]) -> list[str]:
    """Remove the built images (and their untagged intermediate layers); return the errors."""
    import docker.errors

    problems: list[str] = []
    for build in builds:
        if build.image_id is None:
            continue
        try:
            client.images.remove(build.image_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            problems.append(f"could not remove {build.image_id[:19]}: {exc.explanation or exc}")
    return problems
