"""Build workers: extract → normalize → build per platform → record, independent of any client.

Each step is appended to the task's event log (``Store.append``) and the bell is rung, so push
streams and ``queryProgress`` followers see it. The terminal state is written before the
terminal event, so a follower that reads the terminal event finds the task finished.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubci.output.redact import redact
from hubci.secret import Secret
from hubci.server.builders import Builder, BuildJob, ReuseJob
from hubci.server.config import HubConfig
from hubci.server.faults import Faults
from hubci.server.publish import Publisher, PublishFailed
from hubci.server.records import (
    BuildRow,
    ExecutorRow,
    TaskRow,
    executor_document,
    new_object_id,
    now_iso,
)
from hubci.server.store import Store
from hubci.server.streams import Bell

if TYPE_CHECKING:
    from hubci.normalize import NormalizeResult

log = logging.getLogger("hubci.server")

RESTARTED = "the Hub restarted during the build; push again"
#: With a builder that reads names and sizes only (check), a file of at least this size that
#: the normalizer does not read is unpacked as a sparse placeholder (model weights, data).
PLACEHOLDER_BYTES = 1024 * 1024
#: The files the normalizer writes (config.yml, Dockerfile, requirements.txt) are kept with the
#: build, for the package it serves; past this, the uploaded bundle is served as it is.
OVERLAY_MAX_BYTES = 4 * 1024 * 1024
STOPPED = "the Hub was stopped during the build; push again"


class StepFailed(Exception):
    """Ends the pipeline with one ``error`` line (subject, message, structured payload)."""

    def __init__(self, subject: str, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.subject = subject
        self.message = message
        self.payload = payload


class Workers:
    def __init__(
        self,
        store: Store,
        bell: Bell,
        config: HubConfig,
        faults: Faults,
        builder: Builder,
        publisher: Publisher | None = None,
    ) -> None:
        self.store = store
        #: pushes each build's images to the registry (None: they stay in the Engine)
        self.publisher = publisher
        self.bell = bell
        self.config = config
        self.faults = faults
        self.builder = builder
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(config.workers, thread_name_prefix="hubci-build")
        self._lock = threading.Lock()
        self._queued = 0
        self._running = 0
        #: the build-env Secrets of each task being built (registered with the redactor)
        self._held: dict[str, list[Secret]] = {}
        #: one lock per executor: its builds publish and record one at a time
        self._publishing: dict[str, threading.Lock] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def recover(self) -> int:
        """Fail the tasks a previous run left unfinished (it stopped or crashed mid-build)."""
        stale = self.store.unfinished_tasks()
        for task in stale:
            self._drop_bundle(task)
            self._finish_failed(
                task.id, "createExecutor", RESTARTED, {"code": 500, "status": 50001}
            )
            log.warning("task %s was interrupted by a restart; marked failed", task.id)
        return len(stale)

    def shutdown(self) -> None:
        """Cancel the builds in flight (they end failed) and wait for the workers."""
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for task in self.store.unfinished_tasks():
            self._finish_failed(task.id, "createExecutor", STOPPED, {"code": 500, "status": 50001})

    def submit(self, task: TaskRow) -> None:
        with self._lock:
            ahead = self._queued + self._running - self.config.workers + 1
            self._queued += 1
        if ahead > 0:
            builds = "build" if ahead == 1 else "builds"
            self.store.set_status(task.id, "waiting")
            self._report(task.id, "waiting", error=f"queued behind {ahead} {builds}")
        self._pool.submit(self._run, task.id)

    # -- events --------------------------------------------------------------------------

    def _emit(self, task_id: str, body: dict[str, Any]) -> None:
        self.store.append(task_id, "push", body)
        self.bell.ring()

    def _report(self, task_id: str, status: str, **extra: Any) -> None:
        self.store.append(task_id, "report", {"status": status, **extra})
        self.bell.ring()

    def _finish_failed(
        self, task_id: str, subject: str, message: str, payload: dict[str, Any]
    ) -> None:
        message = redact(message)
        payload = {"message": message, "readableMessage": message, **payload}
        text = str(payload.get("readableMessage") or message)
        line = {"type": "error", "subject": subject, "message": message, "payload": payload}
        self.store.fail(task_id, {"message": text, "subject": subject}, line)
        self.bell.ring()

    # -- the pipeline --------------------------------------------------------------------

    def _run(self, task_id: str) -> None:
        with self._lock:
            self._queued -= 1
            self._running += 1
        try:
            task = self.store.task(task_id)
            if task is None or task.terminal:
                return
            if task.status == "waiting":  # its turn has come
                self.store.set_status(task_id, "pending")
                self._report(task_id, "pending")
            work = self.config.data_dir / "work" / task_id
            try:
                self._pipeline(task, work)
            except StepFailed as exc:
                self._finish_failed(task_id, exc.subject, exc.message, exc.payload)
                self._drop_bundle(task)
            except Exception as exc:
                log.exception("task %s: internal error", task_id)
                self._finish_failed(
                    task_id,
                    "createExecutor",
                    f"internal error in the local Hub: {type(exc).__name__}",
                    {"code": 500, "status": 50001},
                )
                self._drop_bundle(task)
            finally:
                shutil.rmtree(work, ignore_errors=True)
                # the build's values are deleted with it: once every line about the task is
                # written (failures included), the redactor need not search for them any more
                for secret in self._held.pop(task_id, []):
                    secret.release()
        finally:
            with self._lock:
                self._running -= 1

    def _drop_bundle(self, task: TaskRow) -> None:
        (self.config.data_dir / str(task.data["uploadedZipFile"])).unlink(missing_ok=True)

    def _check_stop(self, subject: str) -> None:
        if self.stopping.is_set():
            raise StepFailed(subject, STOPPED, {"code": 500, "status": 50001})

    def _pipeline(self, task: TaskRow, work: Path) -> None:
        """The Hub's stages, in order; each raises StepFailed to end the task with an error."""
        executor = self.store.executor_by_id(task.executor_id)
        if executor is None:  # pragma: no cover - executors are never deleted
            raise StepFailed("createExecutor", "the executor vanished", {"code": 404})
        tags = _all_tags(task)
        image = f"jinahub/{executor.id}"
        # With a registry, the images the Engine keeps are named after the task alone: builds
        # of every account share the Engine, and a name such as jinahub/<id>:<tag> would let
        # another account's FROM build on a private image (and builds of one tag would move
        # each other's names). The registry holds the tags.
        names = [task.id] if self.publisher is not None else tags
        earlier = self._reuse(task, executor, image, names)
        if earlier is not None:
            model = self.store.build_model(earlier.id)
            reused = {"imageIds": earlier.image_ids, "overlay": earlier.params.get("overlay", {})}
            self._publish(task, executor, image, tags, model, reused, earlier)
            return
        src = self._extract(task, work)
        before = _stamps(src)
        normalized = self._normalize(task, src)
        overlay = _written_since(src, before)
        image_ids = self._build(task, src, normalized.dockerfile, image, names)
        made = {"imageIds": image_ids, "overlay": overlay}
        self._publish(task, executor, image, tags, normalized.model, made)

    def _reuse(
        self, task: TaskRow, executor: ExecutorRow, image: str, tags: list[str]
    ) -> BuildRow | None:
        """An earlier build of this executor from the same bundle with the same parameters,
        its images given this push's tags (None: build). Never with build envs (their values
        are deleted after each build, so two pushes cannot be compared) or ``noCache``."""
        params = task.data["buildParams"]
        if params["noCache"] or params["buildSecrets"]:
            return None
        earlier = self.store.same_build(
            executor.id,
            md5=str(task.data["md5sum"]),
            platforms=list(params["platforms"]),
            params=build_params(task),
        )
        if earlier is None:
            return None
        tid = task.id
        self._emit(tid, {"type": "start", "subject": "buildWorkspace"})
        message = (
            f"reusing build {earlier.id}: the same bundle (md5 {earlier.md5}) and build "
            "parameters, so its images get the new tags and nothing is built"
        )
        self._emit(tid, {"type": "progress", "subject": "buildWorkspace", "message": message})
        job = ReuseJob(image=image, tags=tuple(tags), image_ids=earlier.image_ids)
        if not self.builder.reuse(job, lambda line: self._console(tid, line)):
            gone = f"cannot reuse build {earlier.id} (its images are gone): building again"
            self._emit(tid, {"type": "progress", "subject": "buildWorkspace", "message": gone})
            return None
        self._emit(tid, {"type": "done", "subject": "buildWorkspace"})
        log.info("task %s: reused build %s", tid, earlier.id)
        return earlier

    def _extract(self, task: TaskRow, work: Path) -> Path:
        """``extractZip``: unpack the uploaded bundle into ``work/src``, within the limits."""
        from hubci.bundle import safe_extract
        from hubci.bundle.errors import UnsafeBundle

        self._emit(task.id, {"type": "start", "subject": "extractZip"})
        src = work / "src"
        src.mkdir(parents=True, mode=0o700)
        placeholder = None
        if not self.builder.reads_content:
            from hubci.normalize import may_read

            dockerfile = task.data["buildParams"].get("dockerfile")

            def placeholder(rel: str, size: int) -> bool:
                return size >= PLACEHOLDER_BYTES and not may_read(rel, dockerfile)

        try:
            safe_extract(
                self.config.data_dir / str(task.data["uploadedZipFile"]),
                src,
                max_total_bytes=self.config.max_extract_bytes,
                max_entries=self.config.max_extract_entries,
                max_ratio=self.config.max_compression_ratio,
                placeholder=placeholder,
            )
        except UnsafeBundle as exc:
            msg = f"the bundle cannot be extracted: {exc.format_message()}"
            raise StepFailed("extractZip", msg, {"code": 422, "status": 42201}) from exc
        self._emit(task.id, {"type": "done", "subject": "extractZip"})
        self._check_stop("extractZip")
        return src

    def _normalize(self, task: TaskRow, src: Path) -> NormalizeResult:
        """``normalize``: generate what the bundle lacks (config.yml, Dockerfile), as the Hub."""
        from hubci.normalize import NormalizeError, normalize

        params = task.data["buildParams"]
        meta = task.data["jinaEnv"]["meta"]
        self._emit(task.id, {"type": "start", "subject": "normalize"})
        try:
            result = normalize(
                src,
                dockerfile=params.get("dockerfile"),
                jina_version=_known(meta.get("jina")),
                python_version=_known(meta.get("python")),
                build_env=params["buildSecrets"],
            )
        except NormalizeError as exc:
            err = {"success": False, "code": exc.code, "data": None, "message": exc.message}
            payload = {
                "code": 422,
                "status": 42205,
                "service": "normalizer",
                "err": err,
                "message": exc.message,
                "readableMessage": exc.message,
            }
            raise StepFailed("normalize", "Normalization failed", payload) from exc
        for warning in result.warnings:
            self._emit(task.id, {"type": "warning", "subject": "normalize", "message": warning})
        self._emit(task.id, {"type": "done", "subject": "normalize"})
        self._check_stop("normalize")
        return result

    def _build(
        self, task: TaskRow, src: Path, dockerfile: str, image: str, tags: list[str]
    ) -> dict[str, str]:
        """``buildWorkspace``: build the image for each platform, its log as console lines."""
        tid = task.id
        params = task.data["buildParams"]
        build_env = {k: Secret(v, key=k) for k, v in self.store.build_env(tid).items()}
        self._held.setdefault(tid, []).extend(build_env.values())  # released in _run
        self._emit(tid, {"type": "start", "subject": "buildWorkspace"})
        self._emit(
            tid,
            {
                "type": "progress",
                "subject": "buildWorkspace",
                "legacyMessage": {"status": "building"},
            },
        )
        image_ids: dict[str, str] = {}
        for platform in params["platforms"]:
            self._slow_build_fault(tid, platform)
            job = BuildJob(
                folder=src,
                dockerfile=dockerfile,
                platform=platform,
                build_env=build_env,
                no_cache=bool(params["noCache"]),
                image=image,
                tags=tuple(tags),
                cancel=self.stopping,
                inject_failure=self.faults.fail_build(platform),
            )
            if job.inject_failure:
                log.warning("fault fired: fail-build:%s (task %s)", platform, tid)
            outcome = self.builder.build(job, lambda line: self._console(tid, line))
            self._check_stop("buildWorkspace")
            if not outcome.ok:
                # masked now, while this build's values are still registered
                text = redact(outcome.error or "docker build failed")
                payload = {"code": 422, "status": 50003, "cmd": "docker"}
                payload |= {"message": text, "readableMessage": text, "platform": platform}
                raise StepFailed("buildWorkspace", "Failed to build the executor image", payload)
            if outcome.image_id is not None:
                image_ids[platform] = outcome.image_id
        self._emit(tid, {"type": "done", "subject": "buildWorkspace"})
        return image_ids

    def _slow_build_fault(self, task_id: str, platform: str) -> None:
        """The ``slow-build`` fault: wait before the build (cut short when the Hub stops)."""
        delay = self.faults.slow_build()
        if delay:
            log.warning("fault fired: slow-build:%g (task %s, %s)", delay, task_id, platform)
            if self.stopping.wait(delay):
                self._check_stop("buildWorkspace")

    def _publish(
        self,
        task: TaskRow,
        executor: ExecutorRow,
        image: str,
        tags: list[str],
        model: dict[str, Any],
        made: dict[str, Any],
        earlier: BuildRow | None = None,
    ) -> None:
        """``pushImage``: record the build, move its tags onto it, end the task ``complete``.
        A build that reuses an ``earlier`` one shares its bundle file (the same bytes: the
        upload is deleted)."""
        self._emit(task.id, {"type": "start", "subject": "pushImage"})
        build_id = new_object_id()
        with self._executor_lock(executor.id):  # tags move in the order builds are recorded
            tid = task.id
            params = task.data["buildParams"]
            images = [f"{image}:{tag}" for tag in tags]
            if self.publisher is not None:
                console = lambda line: self._console(tid, line)  # noqa: E731
                try:
                    published = self.publisher.publish(
                        image, build_id, tags, made["imageIds"], console, self.stopping
                    )
                except PublishFailed as exc:
                    text = redact(str(exc))
                    payload = {
                        "code": 500,
                        "status": 50002,
                        "message": text,
                        "readableMessage": text,
                    }
                    raise StepFailed(
                        "pushImage", "Failed to push the executor image", payload
                    ) from exc
                images = published.references
                made = {**made, "registry": {"platforms": published.platforms}}
            bundle = str(task.data["uploadedZipFile"])
            if earlier is not None and (self.config.data_dir / earlier.bundle).is_file():
                self._drop_bundle(task)
                bundle = earlier.bundle
            build = BuildRow(
                id=build_id,
                executor_id=executor.id,
                task_id=tid,
                tags=tags,
                platforms=list(params["platforms"]),
                images=images,
                md5=str(task.data["md5sum"]),
                bundle=bundle,
                build_env_keys=list(params["buildSecrets"]),
                created_at=now_iso(),
                params={**build_params(task), **made},
            )
            self._emit(tid, {"type": "done", "subject": "pushImage"})
            executor = self.store.executor_by_id(executor.id) or executor
            payload = {
                **executor_document(executor),
                "commit": {"_id": build_id, "id": build_id, "tags": tags},
            }
            complete = {
                "type": "complete",
                "subject": "createExecutor",
                "message": f"Successfully pushed {executor.id}",
                "payload": payload,
            }
            self.store.succeed(
                task,
                build=build,
                protected=task.data["immutableCommitTags"],
                result=payload,
                model=model,
                final=complete,
            )
            self.bell.ring()
            log.info("task %s: built %s/%s %s", tid, executor.owner, executor.name, tags)

    def _executor_lock(self, executor_id: str) -> threading.Lock:
        with self._lock:
            return self._publishing.setdefault(executor_id, threading.Lock())

    def _console(self, task_id: str, line: str) -> None:
        # build envs are Secrets (registered with the one redactor): masked in the task's log
        payload = redact(line)
        self._emit(task_id, {"type": "console", "subject": "buildWorkspace", "payload": payload})


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file below ``folder``, by relative POSIX path."""
    found: dict[str, tuple[int, int]] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            st = path.lstat()
            found[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


def _written_since(folder: Path, before: dict[str, tuple[int, int]]) -> dict[str, str]:
    """What the normalizer wrote (new or changed files), base64, for the package the Hub
    serves (hubci.bundle.overlay); empty when it wrote more than OVERLAY_MAX_BYTES."""
    written: dict[str, str] = {}
    total = 0
    for rel, stamp in _stamps(folder).items():
        if before.get(rel) == stamp:
            continue
        data = (folder / rel).read_bytes()
        total += len(data)
        if total > OVERLAY_MAX_BYTES:
            log.warning("the normalizer wrote more than %d bytes: served as uploaded", total)
            return {}
        written[rel] = base64.b64encode(data).decode("ascii")
    return written


def build_params(task: TaskRow) -> dict[str, Any]:
    """What besides the bundle decides a task's image (kept with its build)."""
    meta = task.data["jinaEnv"]["meta"]
    return {
        "dockerfile": task.data["buildParams"].get("dockerfile"),
        "jina": _known(meta.get("jina")),
        "python": _known(meta.get("python")),
    }


def _all_tags(task: TaskRow) -> list[str]:
    """The task's tags then its protected tags, once each, in that order."""
    tags: list[str] = task.data["commitTags"]
    protected: list[str] = task.data["immutableCommitTags"]
    return list(dict.fromkeys([*tags, *protected]))


def _known(value: object) -> str | None:
    """Header values the client fills with ``(unset)`` when a package is missing."""
    if not isinstance(value, str) or not value or value == "(unset)":
        return None
    return value
