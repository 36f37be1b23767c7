"""The local Hub's ``--builder docker``: real images through the Docker Engine API.

Each :class:`~hubci.server.builders.BuildJob` is one platform build by the same builder module as
``hubci build`` (:mod:`hubci.image.builder`). Images are named as the Hub names them,
``<image>:<tag>`` (``jinahub/<id>:<tag>``), plus ``<image>:<tag>-<os>-<arch>`` per platform so a
multi-platform push keeps every platform's image: the plain tags go to the Engine's native
platform, or to another platform when no native image holds them yet. Console lines are the
Engine's build log with build-env values masked; a failure is returned as the Hub's docker build
error (``docker build exited with code 1: …``), which the Hub streams as status 50003.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from hubci.errors import EngineUnavailable
from hubci.image.builder import BuildSpec, build_platform, platform_slug
from hubci.image.engine import EngineInfo, connect, normalize_arch
from hubci.server.builders import BuildJob, BuildOutcome, PushJob, ReuseJob

DOCKER_BUILD_FAILED = "docker build exited with code 1"


class DockerBuilder:
    """Builds each job with the Engine at ``DOCKER_HOST`` (or the default socket).

    The Engine is contacted lazily, on the first job, so the Hub starts even when the Engine is
    down; a job then fails with the "no Docker Engine" message instead.
    """

    reads_content = True

    def __init__(self, **_options: object) -> None:
        self._lock = threading.Lock()
        self._client: Any = None
        self._engine: EngineInfo | None = None

    def _connect(self) -> tuple[Any, EngineInfo]:
        with self._lock:
            if self._client is None or self._engine is None:
                self._client, self._engine = connect()
            return self._client, self._engine

    def build(self, job: BuildJob, log: Callable[[str], None]) -> BuildOutcome:
        if job.inject_failure:
            log(f"ERROR: simulated failure for {job.platform} (fault fail-build)")
            return BuildOutcome(False, None, f"{DOCKER_BUILD_FAILED}: simulated failure")
        if job.cancel.is_set():
            return BuildOutcome(False, None, "the build was cancelled: the Hub is stopping")
        try:
            client, engine = self._connect()
        except EngineUnavailable as exc:
            log(f"ERROR: {exc.format_message()}")
            return BuildOutcome(False, None, f"{DOCKER_BUILD_FAILED}: {exc.message}")
        spec = BuildSpec(
            context=job.folder,
            dockerfile=job.dockerfile,
            build_env=job.build_env,
            no_cache=job.no_cache,
        )
        slug = platform_slug(job.platform)
        refs = [f"{job.image}:{tag}-{slug}" for tag in job.tags]
        result = build_platform(
            client, engine, spec, job.platform, tags=refs, log=log, cancel=job.cancel
        )
        if not result.ok:
            log(f"ERROR: {result.error}")
            return BuildOutcome(False, None, f"{DOCKER_BUILD_FAILED}: {result.error}")
        assert result.image_id is not None
        self._tag_plain(client, engine, job.image, job.tags, job.platform, result.image_id)
        return BuildOutcome(True, result.image_id, None)

    def reuse(self, job: ReuseJob, log: Callable[[str], None]) -> bool:
        """Tag each platform's image of the earlier build (by id: its old tags may have moved
        on) with the new tags; False when the Engine no longer has one of them."""
        import docker.errors

        try:
            client, engine = self._connect()
        except EngineUnavailable as exc:
            log(f"cannot reuse the earlier images: {exc.message}")
            return False
        try:
            for image_id in job.image_ids.values():
                client.images.get(image_id)
        except docker.errors.ImageNotFound:
            log("the earlier build's images are gone from the Engine: building again")
            return False
        except (docker.errors.DockerException, OSError) as exc:
            log(f"cannot reach the earlier build's images ({type(exc).__name__}): building again")
            return False
        try:
            for platform, image_id in job.image_ids.items():
                slug = platform_slug(platform)
                for tag in job.tags:
                    client.api.tag(image_id, job.image, f"{tag}-{slug}")
                    log(f"Successfully tagged {job.image}:{tag}-{slug}")
                self._tag_plain(client, engine, job.image, job.tags, platform, image_id)
        except (docker.errors.DockerException, OSError) as exc:
            log(f"tagging the earlier build's images failed ({type(exc).__name__}): building again")
            return False
        return True

    def push(self, job: PushJob, log: Callable[[str], None]) -> str | None:
        """Tag the image as ``job.reference``, push it through the Engine (which uploads the
        layers the registry lacks), then drop that tag again: the Engine keeps its own names."""
        import docker.errors

        try:
            client, _engine = self._connect()
        except EngineUnavailable as exc:
            return exc.message
        repository, _, tag = job.reference.rpartition(":")
        auth = {"username": job.username, "password": job.password.reveal()}
        deadline = time.monotonic() + job.seconds
        try:
            client.api.tag(job.image_id, repository, tag)
            try:
                events = client.api.push(
                    repository, tag=tag, auth_config=auth, stream=True, decode=True
                )
                for event in events:
                    if job.cancel.is_set():
                        events.close()
                        return f"pushing {job.reference} was cancelled: the Hub is stopping"
                    if time.monotonic() > deadline:
                        events.close()
                        return f"pushing {job.reference} took longer than {job.seconds:.0f} s"
                    if not isinstance(event, dict):
                        continue
                    if event.get("error") or event.get("errorDetail"):
                        detail = event.get("errorDetail")
                        text = detail.get("message") if isinstance(detail, dict) else None
                        return f"pushing {job.reference} failed: {text or event.get('error')}"
                    status = event.get("status")
                    if isinstance(status, str) and status.startswith(("Pushed", "latest", tag)):
                        log(status)
            finally:
                client.api.remove_image(job.reference, noprune=True)
        except (docker.errors.DockerException, OSError) as exc:
            return f"pushing {job.reference} failed: {_engine_reason(exc)}"
        log(f"Pushed {job.reference}")
        return None

    def _tag_plain(
        self, client: Any, engine: EngineInfo, image: str, tags: tuple[str, ...], platform: str,
        image_id: str,
    ) -> None:  # fmt: skip
        """``<image>:<tag>`` for the native platform, or for the first one built otherwise."""
        import docker.errors

        for tag in tags:
            if platform != engine.platform:
                try:
                    held = client.images.get(f"{image}:{tag}")
                except docker.errors.ImageNotFound:
                    held = None
                if held is not None and _platform_of(held.attrs) == engine.platform:
                    continue
            client.api.tag(image_id, image, tag)


def _engine_reason(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else type(exc).__name__
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _platform_of(attrs: dict[str, Any]) -> str:
    return f"{attrs.get('Os', 'linux')}/{normalize_arch(str(attrs.get('Architecture', '')))}"
