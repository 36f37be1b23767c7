"""The build pipeline over HTTP: extraction, normalizer rejections, build failures, following."""

from __future__ import annotations

import io
import json
import logging
import stat
import zipfile
from typing import Any

import pytest
import requests

from hubci.server.embedded import HubHandle
from testing.hub import ALICE_TOKEN, BOB_TOKEN

from .helpers import (
    EXECUTOR_PY,
    executor_zip,
    lines_of,
    push,
    push_raw,
    query_progress,
    rpc,
    tasks,
    terminal,
    zip_bytes,
)


def _error(lines: list[dict[str, Any]]) -> dict[str, Any]:
    end = terminal(lines)
    assert end["type"] == "error"
    return end


@pytest.mark.parametrize(
    ("files", "code", "words"),
    [
        (
            {"config.yml": "jtype: Missing\npy_modules: [executor.py]\n"},
            4000,
            "can not discover any Executor",
        ),
        ({"config.yml": "jtype: Greeter\n"}, 4000, "no py_modules"),
        (
            {"config.yml": None, "other.py": EXECUTOR_PY.format(name="Second")},
            4001,
            "more than one Executor",
        ),
        (
            {
                "executor.py": (
                    "from jina import Executor\n\nclass Greeter(Executor):\n"
                    "    def __init__(*args, **kwargs):\n        pass\n"
                )
            },
            4002,
            "illegal",
        ),
        (
            {
                "config.yml": None,
                "executor.py": None,
                "executor/__init__.py": (
                    "from jina import Executor\nfrom .b import B\n\nclass Greeter(Executor):\n"
                    "    pass\n"
                ),
                "executor/b.py": "from .c import C\nB = 1\n",
                "executor/c.py": "from .b import B\nC = 2\n",
            },
            4003,
            "cycle",
        ),
        ({"config.yml": "metas:\n  name: Greeter\n"}, 5000, "jtype"),
        (
            {"config.yml": "jtype: Greeter\npy_modules: [executor.py]\nmetas: {py_modules: [a]}\n"},
            5000,
            "py_modules can only be appear in one",
        ),
        ({"executor.py": "class Greeter(:\n"}, 5000, "executor.py"),
    ],
    ids=[
        "jtype-mismatch",
        "no-py-modules",
        "two-executors",
        "illegal",
        "cycle",
        "no-jtype",
        "py-modules-twice",
        "syntax-error",
    ],
)
def test_normalizer_rejections_stream_the_hub_error(
    hub: HubHandle, files: dict[str, str | None], code: int, words: str
) -> None:
    base: dict[str, str | bytes] = {
        "config.yml": "jtype: Greeter\nmetas:\n  py_modules: [executor.py]\n",
        "executor.py": EXECUTOR_PY.format(name="Greeter"),
        "README.md": "# x\n",
    }
    for rel, text in files.items():
        if text is None:
            base.pop(rel, None)
        else:
            base[rel] = text
    lines = push(hub.url, zip_bytes(base), id="Greeter")
    end = _error(lines)
    assert end["subject"] == "normalize"
    payload = end["payload"]
    assert payload["status"] == 42205
    assert payload["service"] == "normalizer"
    assert payload["err"]["code"] == code
    assert payload["err"]["success"] is False
    assert words in payload["readableMessage"]
    assert tasks(hub.url, "Greeter")[0]["status"] == "failed"


def test_a_bundle_without_config_gets_one_generated(hub: HubHandle) -> None:
    data = zip_bytes({"executor.py": EXECUTOR_PY.format(name="Solo"), "README.md": "x"})
    lines = push(hub.url, data, id="Solo")
    assert terminal(lines)["type"] == "complete"
    warnings = [line["message"] for line in lines if line["type"] == "warning"]
    assert any("generated one with jtype: Solo" in w for w in warnings)


@pytest.mark.parametrize(
    ("entry", "why"),
    [("/etc/evil", "absolute"), ("../evil", ".."), ("a/../../evil", "..")],
)
def test_unsafe_zips_fail_at_extraction(hub: HubHandle, entry: str, why: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("config.yml", "jtype: Greeter\n")
        archive.writestr(entry, "x")
    lines = push(hub.url, buf.getvalue(), id="Greeter")
    end = _error(lines)
    assert end["subject"] == "extractZip"
    assert end["payload"]["status"] == 42201
    assert not (hub.data_dir.parent / "evil").exists()


def test_a_link_out_of_the_bundle_is_refused(hub: HubHandle) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    end = _error(push(hub.url, buf.getvalue(), id="Greeter"))
    assert end["subject"] == "extractZip"


def test_a_zip_bomb_is_refused(hub: HubHandle) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"\0" * (64 * 1024 * 1024))
    end = _error(push(hub.url, buf.getvalue(), id="Greeter"))
    assert end["subject"] == "extractZip"
    assert "zip bomb" in end["payload"]["readableMessage"]


def test_not_a_zip(hub: HubHandle) -> None:
    end = _error(push(hub.url, b"this is not a zip", id="Greeter"))
    assert end["subject"] == "extractZip"


def test_a_failing_build_streams_a_docker_error(hub: HubHandle) -> None:
    hub.add_fault("fail-build:linux/arm64")
    lines = push(
        hub.url, executor_zip(), id="Greeter", platform="linux/amd64,linux/arm64", verbose="True"
    )
    end = _error(lines)
    assert end["subject"] == "buildWorkspace"
    assert end["payload"]["status"] == 50003
    assert end["payload"]["cmd"] == "docker"
    assert "returned a non-zero code: 1" in end["payload"]["readableMessage"]
    console = [line["payload"] for line in lines if line["type"] == "console"]
    assert any("Successfully built" in text for text in console)  # amd64 went through
    assert any("simulated failure for linux/arm64" in text for text in console)
    task = tasks(hub.url, "Greeter")[0]
    assert task["status"] == "failed"
    status = lines_of(query_progress(hub.url, task["_id"]))
    assert status[-1]["type"] == "report"
    assert status[-1]["status"] == "failed"
    assert "non-zero code" in status[-1]["error"]["message"]


def test_build_env_used_by_requirements_needs_a_value_and_an_arg(hub: HubHandle) -> None:
    requirements = {"requirements.txt": "numpy==${NUMPY_VERSION}\n"}
    missing = _error(push(hub.url, executor_zip(**requirements), id="Greeter"))
    assert "no build env NUMPY_VERSION was given" in missing["payload"]["readableMessage"]
    generated = push(
        hub.url,
        executor_zip(**requirements),
        id="Greeter",
        buildEnv=json.dumps({"NUMPY_VERSION": "1.26"}),
    )
    assert terminal(generated)["type"] == "complete"  # the generated Dockerfile declares ARG
    undeclared = {
        **requirements,
        "Dockerfile": "FROM python:3.11\nCOPY . /w\nRUN pip install -r /w/requirements.txt\n",
    }
    end = _error(
        push(
            hub.url,
            executor_zip(**undeclared),
            id="Greeter",
            buildEnv=json.dumps({"NUMPY_VERSION": "1.26"}),
        )
    )
    assert "declare `ARG NUMPY_VERSION`" in end["payload"]["readableMessage"]


def test_dockerfile_checks_of_the_check_builder(hub: HubHandle) -> None:
    bad_first = {"Dockerfile": "RUN echo hi\nFROM python:3.11\n"}
    end = _error(push(hub.url, executor_zip(**bad_first), id="Greeter"))
    assert "FROM must come first" in end["payload"]["readableMessage"]
    gpu = {"Dockerfile.gpu": "FROM nvidia/cuda:12.0\nCOPY missing.txt /x\n"}
    end = _error(push(hub.url, executor_zip(**gpu), id="Greeter", dockerfile="Dockerfile.gpu"))
    assert "missing.txt" in end["payload"]["readableMessage"]
    absent = _error(push(hub.url, executor_zip(), id="Greeter", dockerfile="Dockerfile.cpu"))
    assert absent["subject"] == "normalize"
    assert "Dockerfile.cpu" in absent["payload"]["readableMessage"]


def test_a_client_that_leaves_can_follow_its_build_again(
    hub: HubHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hubci.server")
    hub.add_fault("slow-build:1")
    response = push_raw(hub.url, executor_zip(), id="Greeter")
    first = json.loads(next(response.iter_lines()))
    assert first == {"type": "init", "subject": "createExecutor"}
    response.close()  # the client goes away mid-build
    task = tasks(hub.url, "Greeter")[0]
    assert task["status"] == "pending"
    follow = lines_of(query_progress(hub.url, task["_id"], replay=False))
    assert follow[0]["type"] == "report"
    assert follow[-1]["status"] == "succeeded"
    assert follow[-1]["result"]["name"] == "Greeter"
    replay = lines_of(query_progress(hub.url, task["_id"], replay=True, verbose=True))
    assert replay[0] == {"type": "report", "task": {"_id": task["_id"]}, "status": "pending"}
    inner = [line["data"]["data"]["type"] for line in replay if line["type"] == "progress"]
    assert inner[0] == "init"
    assert "console" in inner
    sns = [line["data"]["sn"] for line in replay if line["type"] == "progress"]
    assert sns == sorted(sns)
    assert replay[-1]["status"] == "succeeded"
    assert "fault fired: slow-build:1" in caplog.text


def test_builds_queue_behind_busy_workers(hub: HubHandle) -> None:
    hub.add_fault("slow-build:1")  # the first two are still building when the third arrives
    responses = [push_raw(hub.url, executor_zip(), id=f"Greeter{i}") for i in range(3)]
    ends = [terminal(lines_of(r))["type"] for r in responses]
    assert ends == ["complete"] * 3
    third = tasks(hub.url, "Greeter2")[0]
    replay = lines_of(query_progress(hub.url, third["_id"]))
    statuses = [line["status"] for line in replay if line["type"] == "report"]
    assert statuses == ["pending", "waiting", "pending", "succeeded"]
    waiting = [line for line in replay if line.get("status") == "waiting"]
    assert waiting[0]["error"] == "queued behind 1 build"


def test_tasks_and_private_executors_stay_private(hub: HubHandle) -> None:
    lines = push(hub.url, executor_zip(), id="Secretive", private="True")
    image = terminal(lines)["payload"]
    assert image["visibility"] == "private"
    task_id = tasks(hub.url, "Secretive")[0]["_id"]
    assert tasks(hub.url, "Secretive", token=BOB_TOKEN) == []
    assert tasks(hub.url, image["id"], token=BOB_TOKEN) == []
    denied = query_progress(hub.url, task_id, token=BOB_TOKEN)
    assert denied.status_code == 404
    for ref in ("Secretive", image["id"], "alice/Secretive"):
        package = rpc(hub.url, "executor.getPackage", token=BOB_TOKEN, json={"id": ref})
        assert package.status_code == 404, ref
        assert "Secretive" not in package.text.replace(ref, "")
    mine = rpc(hub.url, "executor.getPackage", json={"id": "Secretive"})
    assert mine.status_code == 200
    signed = mine.json()["data"]["package"]["download"]  # the owner's short-lived link
    assert requests.get(signed, timeout=10).status_code == 200
    download = signed.split("?", 1)[0]
    assert requests.get(download, timeout=10).status_code == 404
    bob = requests.get(download, headers={"Authorization": "token " + BOB_TOKEN}, timeout=10)
    assert bob.status_code == 404
    owner = requests.get(download, headers={"Authorization": "token " + ALICE_TOKEN}, timeout=10)
    assert owner.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(owner.content)).namelist()
    update = push_raw(
        hub.url,
        executor_zip(),
        endpoint="executor.update",
        token=BOB_TOKEN,
        id=image["id"],
        secret="guess",
    )
    assert update.status_code == 404


def test_update_with_a_secret(hub: HubHandle) -> None:
    created = terminal(push(hub.url, executor_zip(), id="Greeter", tags="v1"))["payload"]
    lines = push(
        hub.url,
        executor_zip(),
        endpoint="executor.update",
        id="Greeter",
        secret="first-secret",
        tags="v2",
    )
    end = terminal(lines)
    assert end["payload"]["id"] == created["id"]
    assert end["payload"]["secret"] == "first-secret"
    task = tasks(hub.url, "Greeter")[0]
    assert "first-secret" not in json.dumps(task)
    assert "first-secret" not in query_progress(hub.url, task["_id"]).text
    wrong = push_raw(
        hub.url, executor_zip(), endpoint="executor.update", id=created["id"], secret="nope"
    )
    assert wrong.status_code == 403
    assert "secret does not match" in wrong.json()["readableMessage"]
    by_id = push(
        hub.url, executor_zip(), endpoint="executor.update", id=created["id"], secret="first-secret"
    )
    assert terminal(by_id)["type"] == "complete"
    unknown = push_raw(hub.url, executor_zip(), endpoint="executor.update", id="Nobody", secret="x")
    assert unknown.status_code == 404
    public = push_raw(
        hub.url,
        executor_zip(),
        endpoint="executor.update",
        token=BOB_TOKEN,
        id=created["id"],
        secret="first-secret",
    )
    assert public.status_code == 403
    assert "your own namespace" in public.json()["readableMessage"]


def test_visibility_is_kept_unless_asked(hub: HubHandle) -> None:
    assert (
        terminal(push(hub.url, executor_zip(), id="G", private="True"))["payload"]["visibility"]
        == "private"
    )
    assert terminal(push(hub.url, executor_zip(), id="G"))["payload"]["visibility"] == "private"
    assert (
        terminal(push(hub.url, executor_zip(), id="G", public="True"))["payload"]["visibility"]
        == "public"
    )


def test_get_package_resolves_names_ids_and_tags(hub: HubHandle) -> None:
    v1 = terminal(push(hub.url, executor_zip(), id="Greeter", tags="v1"))["payload"]
    terminal(push(hub.url, executor_zip(), id="Greeter", tags="v2,latest"))
    for ref in ("Greeter", v1["id"], "alice/Greeter"):
        data = rpc(hub.url, "executor.getPackage", json={"id": ref}).json()["data"]
        assert data["commit"]["tags"] == ["v2", "latest"]
    tagged = rpc(hub.url, "executor.getPackage", json={"id": "Greeter", "tag": "v1"})
    data = tagged.json()["data"]
    assert data["commit"]["id"] == v1["commit"]["id"]
    assert data["package"]["containers"] == [f"jinahub/{v1['id']}:v1"]
    assert len(data["package"]["md5"]) == 32
    anonymous = rpc(hub.url, "executor.getPackage", token=None, json={"id": "alice/Greeter"})
    assert anonymous.status_code == 200
    missing = rpc(hub.url, "executor.getPackage", json={"id": "Greeter", "tag": "v9"})
    assert missing.status_code == 404
    terminal(push(hub.url, executor_zip(), id="Greeter", tags="v3"))
    default = rpc(hub.url, "executor.getPackage", json={"id": "Greeter"}).json()["data"]
    assert default["commit"]["tags"] == ["v2", "latest"]  # `latest` wins over the newest


def test_list_tasks_pages_and_sorts(hub: HubHandle) -> None:
    for tag in ("a", "b", "c"):
        terminal(push(hub.url, executor_zip(), id="Greeter", tags=tag))
    newest = tasks(hub.url, "Greeter", size=1)
    assert [t["data"]["commitTags"] for t in newest] == [["c"]]
    oldest = rpc(
        hub.url,
        "executor.listAsyncTasks",
        data={"id": "Greeter", "sort": "createdAt", "pageSize": "2", "page": "2"},
    ).json()["data"]
    assert [t["data"]["commitTags"] for t in oldest] == [["c"]]
    bad = rpc(hub.url, "executor.listAsyncTasks", data={"id": "Greeter", "pageSize": "0"})
    assert bad.status_code == 400
    anonymous = rpc(hub.url, "executor.listAsyncTasks", token=None, data={"id": "Greeter"})
    assert anonymous.status_code == 401
