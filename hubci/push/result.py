"""The typed outcome of a push (and of a status query), and its JSON form.

JSON schema (``--format json``, docs/push.md)::

    {"status": "succeeded"|"failed"|"timeout"|"submitted"|"unchanged",
     "task_id": str|null,
     "build_id": str|null,   (unchanged: the Hub's existing build)
     "executor": {"id", "name", "owner", "visibility", "tags", "platforms", "uri",
                  "docker_uri"} | null,
     "bundle": {"md5", "size", "files"} | null,
     "duration_s": float,
     "error": str|null}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hubci.errors import EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT
from hubci.hub.records import ExecutorDocument

if TYPE_CHECKING:
    from hubci.hub.follow import Terminal
    from hubci.hub.records import Task

Status = Literal["succeeded", "failed", "timeout", "submitted", "unchanged", "dry-run"]


@dataclass(frozen=True)
class ExecutorInfo:
    id: str | None
    name: str | None
    owner: str | None
    visibility: str | None
    tags: tuple[str, ...]
    platforms: tuple[str, ...]

    @property
    def uri(self) -> str | None:
        return self._uri("jinaai")

    @property
    def docker_uri(self) -> str | None:
        return self._uri("jinaai+docker")

    def _uri(self, scheme: str) -> str | None:
        if not self.name and not self.id:
            return None
        tag = f":{self.tags[0]}" if self.tags else ""
        if self.owner and self.name:
            return f"{scheme}://{self.owner}/{self.name}{tag}"
        legacy = scheme.replace("jinaai", "jinahub")
        return f"{legacy}://{self.id or self.name}{'/' + self.tags[0] if self.tags else ''}"

    @classmethod
    def from_payload(
        cls, payload: object, *, platforms: tuple[str, ...] = ()
    ) -> ExecutorInfo | None:
        """Read the Hub's executor document (docs/protocol.md#the-executor-document); the secret in
        it is dropped. ``platforms``: used when the document does not say which were built."""
        return cls.from_document(ExecutorDocument.from_json(payload), platforms=platforms)

    @classmethod
    def from_document(
        cls, doc: ExecutorDocument | None, *, platforms: tuple[str, ...] = ()
    ) -> ExecutorInfo | None:
        if doc is None:
            return None
        return cls(
            id=doc.id,
            name=doc.name,
            owner=doc.owner,
            visibility=doc.visibility,
            tags=doc.tags,
            platforms=doc.platforms if doc.platforms is not None else platforms,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "visibility": self.visibility,
            "tags": list(self.tags),
            "platforms": list(self.platforms),
            "uri": self.uri,
            "docker_uri": self.docker_uri,
        }


#: Longest part of a Hub's failure message quoted in a result.
MAX_HUB_MESSAGE = 1000


def failure_message(terminal: Terminal) -> str | None:
    """The result's ``error`` for how a build ended: who refused it, in the Hub's words (on one
    line, at most :data:`MAX_HUB_MESSAGE` characters of them)."""
    from hubci.output.neutralize import flatten

    said = flatten(terminal.error, MAX_HUB_MESSAGE) if terminal.error else terminal.error
    if terminal.status != "failed":
        return said
    if terminal.stage == "normalizer":
        return f"the Hub's normalizer rejected the bundle: {said}"
    return f"the build failed: {said}"


def built_platforms(task: Task | None) -> tuple[str, ...]:
    """The platforms the Hub built (``data.buildParams.platforms`` of a task), if it says."""
    return task.platforms if task is not None else ()


@dataclass(frozen=True)
class BundleInfo:
    md5: str
    size: int
    files: int

    def to_json(self) -> dict[str, Any]:
        return {"md5": self.md5, "size": self.size, "files": self.files}


@dataclass
class PushResult:
    status: Status
    task_id: str | None = None
    executor: ExecutorInfo | None = None
    bundle: BundleInfo | None = None
    duration_s: float = 0.0
    error: str | None = None
    #: "build" or "normalizer" for failed builds
    stage: str | None = None
    warnings: list[str] = field(default_factory=list)
    session_id: str | None = None
    #: (relpath, size) of every bundled file; dry runs only
    files: list[tuple[str, int]] = field(default_factory=list)
    #: the Hub's build this result is about, when known (``unchanged``: the existing one)
    build_id: str | None = None
    #: why nothing was uploaded (``unchanged``)
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        if self.status in ("succeeded", "submitted", "unchanged", "dry-run"):
            return EXIT_OK
        if self.status == "timeout":
            return EXIT_TIMEOUT
        return EXIT_FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "task_id": self.task_id,
            "build_id": self.build_id,
            "executor": self.executor.to_json() if self.executor else None,
            "bundle": self.bundle.to_json() if self.bundle else None,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
        }
