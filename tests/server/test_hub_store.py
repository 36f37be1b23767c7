"""The SQLite store: tokens, atomic tasks, protected-tag reservations, reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubci.secret import Secret
from hubci.server.auth import hash_token, token_from_header, token_matches
from hubci.server.records import NewTask, TagProtected
from hubci.server.store import Store


def new_task(name: str = "Greeter", **overrides: object) -> NewTask:
    fields: dict[str, object] = {
        "owner": "alice",
        "name": name,
        "executor_id": None,
        "visibility": None,
        "tags": ["latest"],
        "protected_tags": [],
        "trace_id": "t",
        "data": {"md5sum": "0" * 32},
        "build_env": {},
    }
    fields.update(overrides)
    return NewTask(**fields)  # type: ignore[arg-type]


def test_tokens_are_hashed_and_checked(tmp_path: Path) -> None:
    store = Store(tmp_path / "hub.db")
    store.set_users({"alice": Secret("alice-token-1"), "bob": Secret("bob-token-22")})
    assert store.authenticate("alice-token-1") == "alice"
    assert store.authenticate("bob-token-22") == "bob"
    assert store.authenticate("alice-token-2") is None
    assert store.authenticate(None) is None
    assert b"alice-token-1" not in (tmp_path / "hub.db").read_bytes()
    store.set_users({"bob": Secret("bob-token-33")})
    assert store.authenticate("alice-token-1") is None
    store.close()


def test_token_helpers() -> None:
    stored = hash_token("abc")
    assert token_matches("abc", stored)
    assert not token_matches("abd", stored)
    assert not token_matches("abc", "garbage")
    assert token_from_header("token  xyz ") == "xyz"
    assert token_from_header("Bearer xyz") == "xyz"
    assert token_from_header("Basic xyz") is None
    assert token_from_header("token") is None


def test_protected_tags_are_reserved_then_released_or_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "hub.db")
    task, executor = store.create_task(new_task(protected_tags=["v1"], tags=[]))
    with pytest.raises(TagProtected) as info:
        store.create_task(new_task(tags=["v1"]))
    assert info.value.tag == "v1"
    store.fail(task.id, {"message": "boom"}, {"type": "error"})
    second, _ = store.create_task(new_task(protected_tags=["v1"], tags=[]))
    assert store.protected_tags(executor.id) == {"v1"}
    assert second.executor_id == executor.id
    store.close()


def test_events_keep_order_and_state_survives_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path / "hub.db")
    task, executor = store.create_task(new_task(build_env={"K": "v"}, visibility="private"))
    for n in range(5):
        store.append(task.id, "push", {"n": n})
    assert store.build_env(task.id) == {"K": "v"}
    store.close()
    again = Store(tmp_path / "hub.db")
    assert [e.body["n"] for e in again.events(task.id)] == [0, 1, 2, 3, 4]
    assert [e.sn for e in again.events(task.id, after=3)] == [4, 5]
    assert again.executor_by_name("alice", "Greeter") == executor
    assert again.executor_by_name("alice", "Greeter").visibility == "private"  # type: ignore[union-attr]
    assert [t.id for t in again.unfinished_tasks()] == [task.id]
    again.fail(task.id, {"message": "x"}, {"type": "error"})
    assert again.build_env(task.id) == {}  # values are dropped when the build ends
    assert again.unfinished_tasks() == []
    again.close()


def test_a_data_folder_of_an_older_hubci_is_upgraded(tmp_path: Path) -> None:
    """Builds recorded before their parameters were kept read as parameters unknown."""
    import sqlite3

    old_builds = (
        "CREATE TABLE builds (id TEXT PRIMARY KEY, executor_id TEXT NOT NULL, task_id TEXT NOT "
        "NULL, tags TEXT NOT NULL, platforms TEXT NOT NULL, images TEXT NOT NULL, md5 TEXT NOT "
        "NULL, bundle TEXT NOT NULL, build_env_keys TEXT NOT NULL, model TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    db = sqlite3.connect(tmp_path / "hub.db")
    db.execute(old_builds)
    db.execute(
        "INSERT INTO builds VALUES ('b1','e1','t1','[\"latest\"]','[\"linux/amd64\"]','[]',"
        f"'{'0' * 32}','bundles/t1.zip','[]','{{}}','2026-01-01T00:00:00Z')"
    )
    db.commit()
    db.close()
    store = Store(tmp_path / "hub.db")
    build = store.build_by_id("b1")
    assert build is not None
    assert build.params == {}
    assert build.dockerfile is None
    store.close()
    Store(tmp_path / "hub.db").close()  # opening an upgraded folder again changes nothing
