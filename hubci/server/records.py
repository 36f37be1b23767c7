"""The records of the local Hub's state (rows of ``hubci.server.store``) and their ids."""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

TERMINAL = frozenset({"succeeded", "failed"})
_UUID8_ALPHABET = string.ascii_lowercase + string.digits


def now_iso() -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as the Hub writes its dates."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_uuid8() -> str:
    return "".join(secrets.choice(_UUID8_ALPHABET) for _ in range(8))


def new_object_id() -> str:
    """A 24-hex id like the Hub's (MongoDB ObjectId shaped) task and commit ids."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class ExecutorRow:
    id: str
    owner: str
    name: str
    visibility: str
    secret_hash: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class TaskRow:
    id: str
    executor_id: str
    owner: str
    status: str
    created_at: str
    updated_at: str
    started: float
    trace_id: str
    data: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class BuildRow:
    id: str
    executor_id: str
    task_id: str
    tags: list[str]
    platforms: list[str]
    images: list[str]
    md5: str
    bundle: str
    build_env_keys: list[str]
    created_at: str
    #: what else decides the image: ``dockerfile`` (None: the default), ``jina`` and
    #: ``python`` (the client's versions, used when the Hub generates the Dockerfile)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def dockerfile(self) -> str | None:
        value = self.params.get("dockerfile")
        return value if isinstance(value, str) else None

    @property
    def image_ids(self) -> dict[str, str]:
        """platform -> the id of the image built for it (empty for builds made before ids
        were kept)."""
        value = self.params.get("imageIds")
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()}

    @property
    def overlay(self) -> dict[str, bytes]:
        """The files the normalizer wrote for this build (served in its package)."""
        value = self.params.get("overlay")
        if not isinstance(value, dict):
            return {}
        return {str(k): base64.b64decode(str(v)) for k, v in value.items()}

    @property
    def package(self) -> tuple[str, str] | None:
        """(file in the data folder, md5) of the package made from the bundle and the
        overlay, once made."""
        value = self.params.get("package")
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            return str(value["file"]), str(value.get("md5"))
        return None

    def same_parameters(self, platforms: list[str], params: dict[str, Any]) -> bool:
        """Whether this build was made with these platforms and parameters, without build
        envs, and kept an image id per platform (so it can be reused)."""
        return (
            set(self.platforms) == set(platforms)
            and not self.build_env_keys
            and all(self.params.get(key) == value for key, value in params.items())
            and set(self.image_ids) == set(self.platforms)
        )


@dataclass(frozen=True)
class Event:
    sn: int
    dt: int
    kind: str  # "push": a push-stream line; "report": a status change
    body: dict[str, Any]


@dataclass(frozen=True)
class NewTask:
    """What an accepted push or update asks for (validated by the app)."""

    owner: str
    name: str
    executor_id: str | None  # update: the existing executor; push: looked up by name
    visibility: str | None  # "public"/"private" when asked for, else keep (first push: public)
    tags: list[str]
    protected_tags: list[str]
    trace_id: str
    data: dict[str, Any]
    build_env: Mapping[str, str]
    set_secret_hash: str | None = None


class TagProtected(Exception):
    """A push names a tag that is protected (or being protected) for this executor."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def executor_document(executor: ExecutorRow) -> dict[str, Any]:
    """An executor document (docs/protocol.md#the-executor-document), without its commit."""
    return {
        "_id": executor.id,
        "id": executor.id,
        "name": executor.name,
        "visibility": executor.visibility,
        "owner": {"name": executor.owner},
        "ownerUserId": executor.owner,
        "identifiers": [executor.id, executor.name],
    }


def executor_row(row: sqlite3.Row) -> ExecutorRow:
    return ExecutorRow(*(row[k] for k in ExecutorRow.__dataclass_fields__))


def task_row(row: sqlite3.Row) -> TaskRow:
    return TaskRow(
        id=row["id"],
        executor_id=row["executor_id"],
        owner=row["owner"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started=row["started"],
        trace_id=row["trace_id"],
        data=json.loads(row["data"]),
        result=json.loads(row["result"]) if row["result"] else None,
        error=json.loads(row["error"]) if row["error"] else None,
    )


def build_row(row: sqlite3.Row) -> BuildRow:
    return BuildRow(
        id=row["id"],
        executor_id=row["executor_id"],
        task_id=row["task_id"],
        tags=json.loads(row["tags"]),
        platforms=json.loads(row["platforms"]),
        images=json.loads(row["images"]),
        md5=row["md5"],
        bundle=row["bundle"],
        build_env_keys=json.loads(row["build_env_keys"]),
        created_at=row["created_at"],
        params=json.loads(row["params"]),
    )
