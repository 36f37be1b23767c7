"""The read side of the Hub: resolving executor references, visibility, task lists, packages.

A private executor is invisible to everyone but its owner (answered as "not found", never as
"forbidden", so its existence does not leak); tasks are only ever listed to their owner.
"""

from __future__ import annotations

import logging
import threading
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubci import rules
from hubci.server import auth
from hubci.server.pushreq import Rejection, bad
from hubci.server.records import BuildRow, ExecutorRow, TaskRow, executor_document
from hubci.server.signing import UrlSigner
from hubci.server.store import Store

TOPIC = "executor:buildAndCreateNewCommit"
MAX_PAGE = 100


def task_object(task: TaskRow) -> dict[str, Any]:
    """An async task as ``listAsyncTasks`` returns it (docs/protocol.md#build-tasks)."""
    obj: dict[str, Any] = {
        "_id": task.id,
        "id": task.id,
        "topic": TOPIC,
        "status": task.status,
        "triesLeft": 0,
        "traceId": task.trace_id,
        "owner": task.owner,
        "createdAt": task.created_at,
        "updatedAt": task.updated_at,
        "data": task.data,
    }
    if task.result is not None:
        obj["result"] = task.result
    if task.error is not None:
        obj["error"] = task.error
    return obj


def _int(value: object, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        msg = f"Invalid {name}: use a whole number from {low} to {high}"
        raise bad(msg)
    return number


log = logging.getLogger("hubci.server")


def download_path(build_id: str) -> str:
    return f"/v2/executor/download/{build_id}"


def containers(build: BuildRow, tag: str | None, prefer: object) -> list[str]:
    """The build's image references, the one for ``tag`` first (the client uses the first);
    with a registry and a ``preferPlatform`` the build has, that platform's own image (a name
    of this build alone: hubci.server.publish)."""
    refs = list(build.images)
    registry = build.params.get("registry")
    if isinstance(registry, dict) and isinstance(prefer, str):
        own = registry.get("platforms", {}).get(prefer.strip())
        if isinstance(own, str):
            return [own, *refs]
    wanted = tag if tag in build.tags else (build.tags[0] if build.tags else None)
    first = next((ref for ref in refs if wanted and ref.endswith(f":{wanted}")), None)
    if first is None:
        return refs
    return [first, *(ref for ref in refs if ref != first)]


class Reads:
    def __init__(self, store: Store, data_dir: Path, signer: UrlSigner | None = None) -> None:
        self.store = store
        self.data_dir = data_dir
        #: signs the download links of private executors (None: no links for them)
        self.signer = signer
        self._packing = threading.Lock()

    def package_file(self, build: BuildRow) -> tuple[Path, str]:
        """The package a build serves and its md5: the uploaded bundle with what the
        normalizer wrote (a generated config.yml or Dockerfile, merged requirements), made on
        first use (hubci.bundle.overlay); the uploaded bundle when it wrote nothing."""
        overlay = build.overlay
        if not overlay:
            return self.data_dir / build.bundle, build.md5
        with self._packing:
            current = self.store.build_by_id(build.id) or build
            made = current.package
            if made is not None and (self.data_dir / made[0]).is_file():
                return self.data_dir / made[0], made[1]
            from hubci.bundle.overlay import overlay_bundle

            folder = self.data_dir / "packages"
            folder.mkdir(mode=0o700, exist_ok=True)
            try:
                written = overlay_bundle(
                    self.data_dir / build.bundle, folder / f"{build.id}.zip", overlay
                )
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
                # the build used only what the bundle's headers say (placeholders); a bundle
                # whose entries do not hold up is served as it was uploaded
                log.warning("build %s: package not made (%s); serving the upload", build.id, exc)
                return self.data_dir / build.bundle, build.md5
            relative = written.path.relative_to(self.data_dir).as_posix()
            self.store.set_build_package(build.id, relative, written.md5)
            return written.path, written.md5

    def visible(self, executor: ExecutorRow, user: str | None, secret: str | None) -> bool:
        if executor.visibility == "public" or executor.owner == user:
            return True
        return bool(
            secret and executor.secret_hash and auth.token_matches(secret, executor.secret_hash)
        )

    def download_url(self, base: str, executor: ExecutorRow, build_id: str) -> str:
        """The package's link; for a private executor a short-lived signed one, since the
        official client downloads it without a token (hubci.server.signing)."""
        path = download_path(build_id)
        if executor.visibility == "private" and self.signer is not None:
            return f"{base}{path}?{self.signer.query(path)}"
        return f"{base}{path}"

    def resolve(self, ref: str, user: str | None) -> ExecutorRow | None:
        """``owner/Name``, a UUID8, or a NAME (yours first, else the oldest public one)."""
        ref = ref.strip().strip("/")
        if "/" in ref:
            owner, _, name = ref.partition("/")
            return self.store.executor_by_name(owner, name.strip("/"))
        if rules.EXECUTOR_ID.fullmatch(ref):
            found = self.store.executor_by_id(ref)
            if found is not None:
                return found
        if user is not None:
            mine = self.store.executor_by_name(user, ref)
            if mine is not None:
                return mine
        public = [e for e in self.store.executors_named(ref) if e.visibility == "public"]
        return public[0] if public else None

    def list_tasks(self, user: str, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
        ident = str(fields.get("id") or "").strip()
        sort = str(fields.get("sort") or "-createdAt").strip()
        if sort not in ("-createdAt", "createdAt"):
            msg = "Invalid sort: use -createdAt or createdAt"
            raise bad(msg)
        size = _int(fields.get("pageSize"), "pageSize", 10, 1, MAX_PAGE)
        page = _int(fields.get("page"), "page", 1, 1, 1_000_000)
        if ident:
            ids = {
                e.id
                for e in (
                    self.store.executor_by_name(user, ident),
                    self.store.executor_by_id(ident),
                )
                if e is not None and e.owner == user
            }
        else:
            ids = set(self.store.executor_ids_of(user))
        tasks = self.store.tasks_for(
            user,
            sorted(ids),
            newest_first=sort.startswith("-"),
            limit=size,
            skip=(page - 1) * size,
        )
        return [task_object(t) for t in tasks]

    def package(self, fields: Mapping[str, Any], user: str | None, base: str) -> dict[str, Any]:
        ref = str(fields.get("id") or "").strip()
        if not ref:
            msg = "Missing id: give an executor NAME, UUID8 or owner/Name"
            raise bad(msg)
        secret = fields.get("secret")
        secret = secret if isinstance(secret, str) else None
        executor = self.resolve(ref, user)
        if executor is None or not self.visible(executor, user, secret):
            msg = f"Executor {ref[:80]!r} not found"
            raise Rejection(404, 40403, msg, message="requested entity not found")
        tag = fields.get("tag")
        tag = tag.strip() if isinstance(tag, str) and tag.strip() else None
        build = self.store.build_for(executor.id, tag or "latest")
        if build is None and tag is None:
            build = self.store.build_for(executor.id, None)  # the newest build
        if build is None:
            what = f"a build tagged {tag!r}" if tag else "a successful build yet"
            msg = f"Executor {ref[:80]!r} has no {what}"
            raise Rejection(404, 40403, msg, message="requested entity not found")
        return {
            **executor_document(executor),
            "commit": {
                "_id": build.id,
                "id": build.id,
                "tags": build.tags,
                "platforms": build.platforms,
                "createdAt": build.created_at,
                "commitParams": {
                    "buildEnv": dict.fromkeys(build.build_env_keys),
                    "dockerfile": build.dockerfile,
                    "md5sum": build.md5,
                    # the client versions a generated Dockerfile was made for
                    "python": build.params.get("python"),
                    "jina": build.params.get("jina"),
                },
            },
            "package": {
                "containers": containers(build, tag, fields.get("preferPlatform")),
                "download": self.download_url(base, executor, build.id),
                "md5": self.package_file(build)[1],
            },
        }
