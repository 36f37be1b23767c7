"""The local Hub's state: SQLite in WAL mode, one file in the data folder.

Tables: users (token hashes, never tokens), executors, builds, tags (with protection), tag
reservations (protected tags claimed by a build in flight), tasks, task events (the log every
stream reads from) and build secrets (build-env values, kept only while their build runs).

One connection guarded by a lock: every call is a short statement, and serialising them keeps
the writes free of SQLITE_BUSY. Bundles live as files next to the database (``bundles/``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hubci.secret import Secret
from hubci.server import auth
from hubci.server.records import (
    BuildRow,
    Event,
    ExecutorRow,
    NewTask,
    TagProtected,
    TaskRow,
    build_row,
    executor_row,
    new_object_id,
    new_uuid8,
    now_iso,
    task_row,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, token_hash TEXT NOT NULL, active INTEGER NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executors (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, visibility TEXT NOT NULL,
    secret_hash TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (owner, name));
CREATE TABLE IF NOT EXISTS builds (
    id TEXT PRIMARY KEY, executor_id TEXT NOT NULL, task_id TEXT NOT NULL, tags TEXT NOT NULL,
    platforms TEXT NOT NULL, images TEXT NOT NULL, md5 TEXT NOT NULL, bundle TEXT NOT NULL,
    build_env_keys TEXT NOT NULL, model TEXT NOT NULL, created_at TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS tags (
    executor_id TEXT NOT NULL, tag TEXT NOT NULL, build_id TEXT NOT NULL,
    protected INTEGER NOT NULL, PRIMARY KEY (executor_id, tag));
CREATE TABLE IF NOT EXISTS tag_reservations (
    executor_id TEXT NOT NULL, tag TEXT NOT NULL, task_id TEXT NOT NULL,
    PRIMARY KEY (executor_id, tag));
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, executor_id TEXT NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started REAL NOT NULL,
    trace_id TEXT NOT NULL, data TEXT NOT NULL, result TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, created_at);
CREATE TABLE IF NOT EXISTS task_events (
    task_id TEXT NOT NULL, sn INTEGER NOT NULL, dt INTEGER NOT NULL, kind TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (task_id, sn));
CREATE TABLE IF NOT EXISTS build_secrets (
    task_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (task_id, name));
"""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        path.chmod(0o600)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        # build-env values are deleted when their build ends: overwrite them on disk too
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(SCHEMA)
        self._upgrade()
        self._user_hashes: dict[str, str] = {}

    def _upgrade(self) -> None:
        """Bring a data folder written by an older hubci up to the current tables."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(builds)")}
        if "params" not in columns:  # builds before their parameters were kept
            self._db.execute("ALTER TABLE builds ADD COLUMN params TEXT NOT NULL DEFAULT '{}'")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # -- users ---------------------------------------------------------------------------

    def set_users(self, users: Mapping[str, Secret]) -> None:
        """Make exactly these accounts able to log in (others keep their executors)."""
        with self._tx() as db:
            db.execute("UPDATE users SET active = 0")
            for name, token in users.items():
                db.execute(
                    "INSERT INTO users (name, token_hash, active, created_at) VALUES (?,?,1,?) "
                    "ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, active = 1",
                    (name, auth.hash_token(token.reveal()), now_iso()),
                )
        rows = self._all("SELECT name, token_hash FROM users WHERE active = 1")
        self._user_hashes = {r["name"]: r["token_hash"] for r in rows}

    def authenticate(self, token: str | None) -> str | None:
        """The user owning ``token``; every account is checked so timing reveals nothing."""
        if not token:
            return None
        found = None
        for name, stored in self._user_hashes.items():
            if auth.token_matches(token, stored):
                found = name
        return found

    # -- executors -----------------------------------------------------------------------

    def executor_by_name(self, owner: str, name: str) -> ExecutorRow | None:
        row = self._one("SELECT * FROM executors WHERE owner = ? AND name = ?", (owner, name))
        return executor_row(row) if row else None

    def executor_by_id(self, executor_id: str) -> ExecutorRow | None:
        row = self._one("SELECT * FROM executors WHERE id = ?", (executor_id,))
        return executor_row(row) if row else None

    def executor_ids_of(self, owner: str) -> list[str]:
        return [r["id"] for r in self._all("SELECT id FROM executors WHERE owner = ?", (owner,))]

    def executors_named(self, name: str) -> list[ExecutorRow]:
        rows = self._all("SELECT * FROM executors WHERE name = ? ORDER BY created_at", (name,))
        return [executor_row(r) for r in rows]

    def protected_tags(self, executor_id: str) -> set[str]:
        rows = self._all(
            "SELECT tag FROM tags WHERE executor_id = ? AND protected = 1 "
            "UNION SELECT tag FROM tag_reservations WHERE executor_id = ?",
            (executor_id, executor_id),
        )
        return {r["tag"] for r in rows}

    # -- tasks ---------------------------------------------------------------------------

    def create_task(self, new: NewTask) -> tuple[TaskRow, ExecutorRow]:
        """Create (or pick) the executor, reserve protected tags and record the task, atomically.

        Raises TagProtected when a named tag is already protected for the executor.
        """
        stamp = now_iso()
        with self._tx() as db:
            executor = self._claim_executor(db, new, stamp)
            task_id = self._reserve_tags(db, executor.id, new.protected_tags)
            self._insert_task(db, task_id, executor, new, stamp)
        task = self.task(task_id)
        assert task is not None
        return task, executor

    def _claim_executor(self, db: sqlite3.Connection, new: NewTask, stamp: str) -> ExecutorRow:
        """The executor the push is for: a new one, or the existing one (whose protected tags
        the push may not name) with its visibility and secret updated."""
        if new.executor_id is not None:
            row = db.execute("SELECT * FROM executors WHERE id = ?", (new.executor_id,)).fetchone()
        else:
            row = db.execute(
                "SELECT * FROM executors WHERE owner = ? AND name = ?", (new.owner, new.name)
            ).fetchone()
        if row is None:
            executor = ExecutorRow(
                id=self._free_uuid8(db),
                owner=new.owner,
                name=new.name,
                visibility=new.visibility or "public",
                secret_hash=new.set_secret_hash,
                created_at=stamp,
                updated_at=stamp,
            )
            db.execute(
                "INSERT INTO executors VALUES (?,?,?,?,?,?,?)",
                tuple(getattr(executor, k) for k in ExecutorRow.__dataclass_fields__),
            )
            return executor
        executor = executor_row(row)
        taken = self.protected_tags(executor.id)
        for tag in [*new.tags, *new.protected_tags]:
            if tag in taken:
                raise TagProtected(tag)
        executor = ExecutorRow(
            id=executor.id,
            owner=executor.owner,
            name=executor.name,
            visibility=new.visibility or executor.visibility,
            secret_hash=executor.secret_hash or new.set_secret_hash,
            created_at=executor.created_at,
            updated_at=stamp,
        )
        db.execute(
            "UPDATE executors SET visibility = ?, secret_hash = ?, updated_at = ? WHERE id = ?",
            (executor.visibility, executor.secret_hash, stamp, executor.id),
        )
        return executor

    @staticmethod
    def _reserve_tags(db: sqlite3.Connection, executor_id: str, tags: Sequence[str]) -> str:
        """Reserve the protected tags for a new task; returns the task's id."""
        for tag in tags:
            db.execute("INSERT INTO tag_reservations VALUES (?,?,?)", (executor_id, tag, ""))
        task_id = new_object_id()
        db.execute(
            "UPDATE tag_reservations SET task_id = ? WHERE executor_id = ? AND task_id = ''",
            (task_id, executor_id),
        )
        return task_id

    @staticmethod
    def _insert_task(
        db: sqlite3.Connection, task_id: str, executor: ExecutorRow, new: NewTask, stamp: str
    ) -> None:
        """The task's row (``pending``) and its build-env values (kept until the build ends)."""
        data = {
            **new.data,
            "uploadedZipFile": f"bundles/{task_id}.zip",
            "executor": executor.id,
            "visibility": executor.visibility,
            "commitTags": new.tags,
            "immutableCommitTags": new.protected_tags,
        }
        db.execute(
            "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,NULL,NULL)",
            (
                task_id,
                executor.id,
                new.owner,
                "pending",
                stamp,
                stamp,
                time.time(),
                new.trace_id,
                json.dumps(data),
            ),
        )
        for key, value in new.build_env.items():
            db.execute("INSERT INTO build_secrets VALUES (?,?,?)", (task_id, key, value))

    @staticmethod
    def _free_uuid8(db: sqlite3.Connection) -> str:
        while True:
            candidate = new_uuid8()
            if db.execute("SELECT 1 FROM executors WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate

    def task(self, task_id: str) -> TaskRow | None:
        row = self._one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return task_row(row) if row else None

    def tasks_for(
        self, owner: str, executor_ids: Sequence[str], *, newest_first: bool, limit: int, skip: int
    ) -> list[TaskRow]:
        if not executor_ids:
            return []
        marks = ",".join("?" * len(executor_ids))
        order = "DESC" if newest_first else "ASC"
        rows = self._all(
            f"SELECT * FROM tasks WHERE owner = ? AND executor_id IN ({marks}) "
            f"ORDER BY started {order}, rowid {order} LIMIT ? OFFSET ?",
            (owner, *executor_ids, limit, skip),
        )
        return [task_row(r) for r in rows]

    def unfinished_tasks(self) -> list[TaskRow]:
        rows = self._all(
            "SELECT * FROM tasks WHERE status NOT IN ('succeeded', 'failed') ORDER BY started"
        )
        return [task_row(r) for r in rows]

    def build_env(self, task_id: str) -> dict[str, str]:
        rows = self._all("SELECT name, value FROM build_secrets WHERE task_id = ?", (task_id,))
        return {r["name"]: r["value"] for r in rows}

    def set_status(self, task_id: str, status: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?",
                (status, now_iso(), task_id),
            )

    def append(self, task_id: str, kind: str, body: Mapping[str, Any]) -> Event:
        """Add one line to the task's event log; returns it with its sequence number."""
        with self._tx() as db:
            return self._append(db, task_id, kind, body)

    @staticmethod
    def _append(db: sqlite3.Connection, task_id: str, kind: str, body: Mapping[str, Any]) -> Event:
        row = db.execute(
            "SELECT started, (SELECT COALESCE(MAX(sn), 0) FROM task_events WHERE task_id = ?) "
            "FROM tasks WHERE id = ?",
            (task_id, task_id),
        ).fetchone()
        started, last = float(row[0]), int(row[1])
        event = Event(
            sn=last + 1, dt=int((time.time() - started) * 1000), kind=kind, body=dict(body)
        )
        db.execute(
            "INSERT INTO task_events VALUES (?,?,?,?,?)",
            (task_id, event.sn, event.dt, kind, json.dumps(event.body)),
        )
        return event

    def events(self, task_id: str, after: int = 0) -> list[Event]:
        rows = self._all(
            "SELECT sn, dt, kind, body FROM task_events WHERE task_id = ? AND sn > ? ORDER BY sn",
            (task_id, after),
        )
        return [Event(r["sn"], r["dt"], r["kind"], json.loads(r["body"])) for r in rows]

    def last_sn(self, task_id: str) -> int:
        row = self._one(
            "SELECT COALESCE(MAX(sn), 0) FROM task_events WHERE task_id = ?", (task_id,)
        )
        return int(row[0]) if row else 0

    def succeed(
        self,
        task: TaskRow,
        *,
        build: BuildRow,
        protected: Sequence[str],
        result: Mapping[str, Any],
        model: Mapping[str, Any],
        final: Mapping[str, Any],
    ) -> None:
        """Record the build, move its tags onto it, free the secrets, end the task.

        ``final`` (the ``complete`` line) is logged in the same transaction, so a follower
        never sees the task finished without its terminal line.
        """
        with self._tx() as db:
            db.execute(
                "INSERT INTO builds (id, executor_id, task_id, tags, platforms, images, md5, "
                "bundle, build_env_keys, model, created_at, params) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    build.id,
                    build.executor_id,
                    build.task_id,
                    json.dumps(build.tags),
                    json.dumps(build.platforms),
                    json.dumps(build.images),
                    build.md5,
                    build.bundle,
                    json.dumps(build.build_env_keys),
                    json.dumps(dict(model)),
                    build.created_at,
                    json.dumps(build.params),
                ),
            )
            for tag in build.tags:
                db.execute(
                    "INSERT INTO tags VALUES (?,?,?,?) ON CONFLICT (executor_id, tag) "
                    "DO UPDATE SET build_id = excluded.build_id, protected = excluded.protected",
                    (build.executor_id, tag, build.id, int(tag in protected)),
                )
            self._end(db, task.id, "succeeded", result=result)
            self._append(db, task.id, "push", final)

        self._scrub()

    def fail(self, task_id: str, error: Mapping[str, Any], final: Mapping[str, Any]) -> None:
        """End the task failed and log ``final`` (its ``error`` line) atomically."""
        with self._tx() as db:
            self._end(db, task_id, "failed", error=error)
            self._append(db, task_id, "push", final)
        self._scrub()

    def _scrub(self) -> None:
        """Fold the WAL into the database and empty it, so deleted build-env values (zeroed
        by ``secure_delete``) do not linger in old WAL frames."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _end(
        db: sqlite3.Connection,
        task_id: str,
        status: str,
        *,
        result: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> None:
        db.execute("DELETE FROM tag_reservations WHERE task_id = ?", (task_id,))
        db.execute("DELETE FROM build_secrets WHERE task_id = ?", (task_id,))
        db.execute(
            "UPDATE tasks SET status = ?, updated_at = ?, result = ?, error = ? WHERE id = ?",
            (
                status,
                now_iso(),
                json.dumps(result) if result is not None else None,
                json.dumps(error) if error is not None else None,
                task_id,
            ),
        )

    # -- builds --------------------------------------------------------------------------

    def build_for(self, executor_id: str, tag: str | None) -> BuildRow | None:
        """The build a tag points at, or the newest build when ``tag`` is None."""
        if tag is None:
            row = self._one(
                "SELECT * FROM builds WHERE executor_id = ? ORDER BY created_at DESC, rowid DESC",
                (executor_id,),
            )
        else:
            row = self._one(
                "SELECT b.* FROM builds b JOIN tags t ON t.build_id = b.id "
                "WHERE t.executor_id = ? AND t.tag = ?",
                (executor_id, tag),
            )
        return build_row(row) if row else None

    def same_build(
        self, executor_id: str, *, md5: str, platforms: list[str], params: dict[str, Any]
    ) -> BuildRow | None:
        """The newest build of the executor from a bundle of ``md5`` made with the same
        platforms and parameters (see BuildRow.same_parameters), if any."""
        rows = self._all(
            "SELECT * FROM builds WHERE executor_id = ? AND md5 = ? "
            "ORDER BY created_at DESC, rowid DESC",
            (executor_id, md5),
        )
        for build in map(build_row, rows):
            if build.same_parameters(platforms, params):
                return build
        return None

    def set_build_package(self, build_id: str, file: str, md5: str) -> None:
        """Record the package made for a build (hubci.server.rpc.Reads.package_file)."""
        with self._tx() as db:
            row = db.execute("SELECT params FROM builds WHERE id = ?", (build_id,)).fetchone()
            if row is None:
                return
            params = json.loads(row["params"])
            params["package"] = {"file": file, "md5": md5}
            db.execute("UPDATE builds SET params = ? WHERE id = ?", (json.dumps(params), build_id))

    def build_model(self, build_id: str) -> dict[str, Any]:
        """The executor model the normalizer made for a build (as recorded with it)."""
        row = self._one("SELECT model FROM builds WHERE id = ?", (build_id,))
        value = json.loads(row["model"]) if row else {}
        return value if isinstance(value, dict) else {}

    def build_by_id(self, build_id: str) -> BuildRow | None:
        row = self._one("SELECT * FROM builds WHERE id = ?", (build_id,))
        return build_row(row) if row else None

    def builds_of(self, executor_id: str) -> list[BuildRow]:
        rows = self._all(
            "SELECT * FROM builds WHERE executor_id = ? ORDER BY created_at, rowid", (executor_id,)
        )
        return [build_row(r) for r in rows]
