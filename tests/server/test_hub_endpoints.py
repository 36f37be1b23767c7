"""The Hubble endpoints of the local Hub, over real HTTP on loopback (docs/protocol.md)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
import requests

from hubci.server.embedded import HubHandle, embedded_hub
from testing.hub import ALICE, BOB_TOKEN, USERS

from .helpers import (
    executor_zip,
    lines_of,
    push,
    push_raw,
    query_progress,
    rpc,
    tasks,
    terminal,
    wait_for,
)


def test_whoami_answers_the_user_and_refuses_a_bad_token(hub: HubHandle) -> None:
    ok = rpc(hub.url, "user.identity.whoami")
    assert ok.status_code == 200
    body = ok.json()
    assert body["code"] == 200
    assert body["status"] == 20000
    assert body["data"]["name"] == ALICE
    assert body["data"]["nickname"] == ALICE
    for token in (None, "wrong-token-123"):
        bad = rpc(hub.url, "user.identity.whoami", token=token)
        assert bad.status_code == 401
        assert bad.json()["status"] == 40103
        assert "readableMessage" in bad.json()


def test_bearer_and_doubled_slashes_are_accepted(hub: HubHandle) -> None:
    response = requests.post(
        f"{hub.url}//v2/rpc/user.identity.whoami",
        headers={"Authorization": f"Bearer {USERS[ALICE]}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["data"]["name"] == ALICE


def test_jwks_unknown_method_and_wrong_verb(hub: HubHandle) -> None:
    jwks = requests.get(f"{hub.url}/v2/.well-known/jwks.json", timeout=10)
    assert jwks.json() == {"keys": []}
    unknown = rpc(hub.url, "executor.create")
    assert unknown.status_code == 404
    assert unknown.json()["status"] == 40402
    wrong = requests.get(f"{hub.url}/v2/rpc/user.identity.whoami", timeout=10)
    assert wrong.status_code == 405
    for path in ("/elsewhere", "/v2/rpc/"):
        nowhere = requests.post(f"{hub.url}{path}", timeout=10)
        assert nowhere.status_code == 404
        assert nowhere.json()["readableMessage"] == (
            f"No endpoint {path} on this Hub; the API is under /v2/rpc/"
        )
    assert wrong.json()["status"] == 40501


def test_push_streams_the_build_and_the_task_records_it(hub: HubHandle) -> None:
    response = push_raw(hub.url, executor_zip(), id="Greeter", tags="v1,latest")
    assert response.status_code == 201
    lines = lines_of(response)
    assert lines[0] == {"type": "init", "subject": "createExecutor"}
    assert not [line for line in lines if line["type"] == "console"]  # not verbose
    subjects = [(line["type"], line.get("subject")) for line in lines]
    for step in ("extractZip", "normalize", "buildWorkspace", "pushImage"):
        assert ("start", step) in subjects
        assert ("done", step) in subjects
    end = terminal(lines)
    assert end["type"] == "complete"
    image = end["payload"]
    assert len(image["id"]) == 8
    assert image["id"].isalnum()
    assert image["id"].islower()
    assert image["name"] == "Greeter"
    assert image["visibility"] == "public"
    assert image["owner"]["name"] == ALICE
    assert image["commit"]["tags"] == ["v1", "latest"]
    assert end["message"] == f"Successfully pushed {image['id']}"

    found = tasks(hub.url, "Greeter")
    assert len(found) == 1
    assert found[0]["status"] == "succeeded"
    assert found[0]["data"]["executor"] == image["id"]
    assert found[0]["topic"] == "executor:buildAndCreateNewCommit"


def test_verbose_push_streams_console_lines(hub: HubHandle) -> None:
    lines = push(hub.url, executor_zip(), id="Greeter", verbose="True")
    console = [line["payload"] for line in lines if line["type"] == "console"]
    assert any(text.startswith("Step 1/") and "FROM jinaai/jina:" in text for text in console)
    assert any(text.startswith("Successfully tagged jinahub/") for text in console)
    assert terminal(lines)["type"] == "complete"


def test_second_push_adds_a_build_to_the_same_executor(hub: HubHandle) -> None:
    first = terminal(push(hub.url, executor_zip(), id="Greeter"))["payload"]
    second = terminal(push(hub.url, executor_zip(), id="Greeter", tags="v2"))["payload"]
    assert first["id"] == second["id"]
    assert first["commit"]["_id"] != second["commit"]["_id"]
    assert first["commit"]["tags"] == ["latest"]
    assert second["commit"]["tags"] == ["v2"]
    listed = tasks(hub.url, "Greeter")
    assert [t["data"]["commitTags"] for t in listed] == [["v2"], ["latest"]]  # newest first


def test_names_are_per_owner(hub: HubHandle) -> None:
    mine = terminal(push(hub.url, executor_zip(), id="Greeter"))["payload"]
    theirs = terminal(push(hub.url, executor_zip(), id="Greeter", token=BOB_TOKEN))["payload"]
    assert mine["id"] != theirs["id"]
    assert theirs["owner"]["name"] == "bob"
    assert [t["data"]["executor"] for t in tasks(hub.url, "Greeter")] == [mine["id"]]


def test_protected_tags_are_refused_before_any_build(hub: HubHandle) -> None:
    first = push(hub.url, executor_zip(), id="Greeter", immutableTags="v1")
    assert terminal(first)["payload"]["commit"]["tags"] == ["v1"]  # no implicit latest
    for fields in ({"immutableTags": "v1"}, {"tags": "v1"}, {"tags": "v2,v1"}):
        again = push_raw(hub.url, executor_zip(), id="Greeter", **fields)
        assert again.status_code == 403
        body = again.json()
        assert body["status"] == 40301
        assert body["readableMessage"] == "tag `v1` is protected and already exists"
    assert len(tasks(hub.url, "Greeter")) == 1
    other = push(hub.url, executor_zip(), id="Greeter", tags="v2")
    assert terminal(other)["type"] == "complete"


def test_a_failed_push_releases_its_protected_tag(hub: HubHandle) -> None:
    hub.add_fault("fail-build:linux/amd64")
    failed = push(hub.url, executor_zip(), id="Greeter", immutableTags="v1")
    assert terminal(failed)["type"] == "error"
    hub.clear_faults()
    assert terminal(push(hub.url, executor_zip(), id="Greeter", immutableTags="v1"))["type"] == (
        "complete"
    )


def test_bad_fields_get_a_400_with_a_readable_message(hub: HubHandle) -> None:
    cases = {
        "tags": ("v 1", "Invalid tag 'v 1'"),
        "immutableTags": ("-x", "Invalid tag '-x'"),
        "platform": ("linux/sparc", "unknown platform 'linux/sparc'"),
        "buildEnv": ('{"lower": "x"}', "Invalid build env name 'lower'"),
        "dockerfile": ("../Dockerfile", "Invalid dockerfile"),
        "verbose": ("maybe", "expected True or False"),
    }
    for field, (value, expected) in cases.items():
        response = push_raw(hub.url, executor_zip(), id="Greeter", **{field: value})
        assert response.status_code == 400, field
        body = response.json()
        assert body["status"] == 40001
        assert expected in body["readableMessage"], (field, body)
    bad_name = push_raw(hub.url, executor_zip(), id="-bad name")
    assert bad_name.status_code == 400
    assert "Invalid executor name" in bad_name.json()["readableMessage"]
    both = push_raw(hub.url, executor_zip(), id="Greeter", public="True", private="True")
    assert both.status_code == 400
    assert tasks(hub.url, "Greeter") == []


def test_build_env_values_are_never_echoed(hub: HubHandle) -> None:
    value = "s3cret-value-zz9"
    bad = push_raw(hub.url, executor_zip(), id="Greeter", buildEnv=json.dumps({"_X": value}))
    assert bad.status_code == 400
    assert value not in bad.text
    bad_type = push_raw(hub.url, executor_zip(), id="Greeter", buildEnv=json.dumps({"A": 1}))
    assert bad_type.status_code == 400
    files = {
        "requirements.txt": "numpy==${NUMPY_VERSION}\n",
        "Dockerfile": (
            "FROM jinaai/jina:3-py38-perf\nARG NUMPY_VERSION\nCOPY . /workspace\n"
            "RUN pip install -r /workspace/requirements.txt\n"
        ),
    }
    lines = push(
        hub.url,
        executor_zip(**files),
        id="Greeter",
        verbose="True",
        buildEnv=json.dumps({"NUMPY_VERSION": value}),
    )
    assert terminal(lines)["type"] == "complete"
    task = tasks(hub.url, "Greeter")[0]
    assert task["data"]["buildParams"]["buildSecrets"] == ["NUMPY_VERSION"]
    replay = query_progress(hub.url, task["_id"], verbose=True).text
    package = rpc(hub.url, "executor.getPackage", json={"id": "Greeter"})
    assert package.json()["data"]["commit"]["commitParams"]["buildEnv"] == {"NUMPY_VERSION": None}
    for text in (json.dumps(lines), json.dumps(task), replay, package.text):
        assert value not in text
    # the value was deleted with its build: the (months-long) Hub process no longer holds it
    from hubci.output import redact as registry

    assert registry.redact(value) == value


def test_md5_and_missing_file_are_checked(hub: HubHandle) -> None:
    data = executor_zip()
    wrong = push_raw(hub.url, data, id="Greeter", md5sum=hashlib.md5(b"x").hexdigest())
    assert wrong.status_code == 400
    assert wrong.json()["status"] == 40003
    no_file = requests.post(
        f"{hub.url}/v2/rpc/executor.push",
        headers={"Authorization": f"token {USERS[ALICE]}"},
        files={"id": (None, "Greeter"), "md5sum": (None, "0" * 32)},
        timeout=10,
    )
    assert no_file.status_code == 400
    assert "file" in no_file.json()["readableMessage"]
    not_multipart = rpc(hub.url, "executor.push", data={"id": "Greeter"})
    assert not_multipart.status_code == 415


def test_read_endpoints_refuse_bad_bodies_with_a_readable_message(hub: HubHandle) -> None:
    def post(method: str, content_type: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {USERS[ALICE]}"}
        if content_type:
            headers["Content-Type"] = content_type
        return requests.post(f"{hub.url}/v2/rpc/{method}", headers=headers, timeout=30, **kwargs)

    big = "a" * (1024 * 1024 + 1)
    for response in (
        post("executor.listAsyncTasks", data=big),
        post("executor.getPackage", "application/json", data=big),
        post("executor.queryProgress", files={"id": (None, big)}),
    ):
        assert response.status_code == 413, response.url
        assert response.json()["status"] == 41302
        assert "larger than 1048576 bytes" in response.json()["readableMessage"]
    not_json = post("executor.getPackage", "application/json", data="{")
    assert not_json.status_code == 400
    assert not_json.json()["readableMessage"] == "Bad request body: the JSON body does not parse"
    lines = push(hub.url, executor_zip(), id="Greeter")
    task_id = tasks(hub.url, "Greeter")[0]["_id"]
    assert terminal(lines)["type"] == "complete"
    maybe = rpc(
        hub.url,
        "executor.queryProgress",
        files={"replay": (None, "maybe"), "verbose": (None, "False"), "id": (None, task_id)},
    )
    assert maybe.status_code == 400
    assert "Invalid value for replay: expected True or False" in maybe.json()["readableMessage"]
    no_id = rpc(hub.url, "executor.queryProgress", files={"replay": (None, "TRUE")})
    assert no_id.status_code == 400
    assert "Missing id" in no_id.json()["readableMessage"]


def test_only_the_file_part_is_taken_as_the_bundle(hub: HubHandle) -> None:
    data = executor_zip()
    parts: dict[str, Any] = {
        "id": ("id.txt", b"Greeter"),  # a file-like part that is not the bundle
        "md5sum": (None, hashlib.md5(data).hexdigest()),
        "file": ("filename", data, "application/octet-stream"),
    }
    response = requests.post(
        f"{hub.url}/v2/rpc/executor.push",
        headers={"Authorization": f"token {USERS[ALICE]}"},
        files=parts,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert terminal(lines_of(response))["type"] == "complete"


def test_push_needs_a_user(hub: HubHandle) -> None:
    response = push_raw(hub.url, executor_zip(), id="Greeter", token=None)
    assert response.status_code == 401
    assert response.json()["status"] == 40103


def test_platforms_default_from_the_client_architecture(hub: HubHandle) -> None:
    data = executor_zip()
    fields = {"public": "False", "private": "False", "md5sum": hashlib.md5(data).hexdigest()}
    response = requests.post(
        f"{hub.url}/v2/rpc/executor.push",
        headers={"Authorization": f"token {USERS[ALICE]}", "jinameta-architecture": "aarch64"},
        data={**fields, "id": "Greeter"},
        files={"file": ("filename", data, "application/octet-stream")},
        timeout=30,
    )
    assert terminal(lines_of(response))["type"] == "complete"
    assert tasks(hub.url, "Greeter")[0]["data"]["buildParams"]["platforms"] == ["linux/arm64"]
    push(hub.url, data, id="Greeter", platform="linux/amd64,linux/arm64,linux/arm/v7")
    assert tasks(hub.url, "Greeter")[0]["data"]["buildParams"]["platforms"] == [
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
    ]


def test_upload_over_the_limit_is_refused(tmp_path_factory: object) -> None:
    import tempfile
    from pathlib import Path

    with (
        tempfile.TemporaryDirectory() as folder,
        embedded_hub(
            data_dir=Path(folder), users=USERS, build_seconds=0, max_upload_bytes=4096
        ) as small,
    ):
        big = push_raw(small.url, executor_zip(**{"blob.txt": "x" * 1}) + b"\0" * 8192, id="G")
        assert big.status_code == 413
        assert big.json()["status"] in (41301, 41302)
        ok = push(small.url, executor_zip(), id="Greeter")
        assert terminal(ok)["type"] == "complete"
        assert not list((Path(folder) / "work").glob("upload-*"))


def test_a_client_that_vanishes_mid_upload_leaves_nothing_behind(
    hub: HubHandle, caplog: pytest.LogCaptureFixture
) -> None:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(hub.url)
    boundary = "b" * 32
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\nGreeter\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="filename"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    request = (
        "POST /v2/rpc/executor.push HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nAuthorization: token {USERS[ALICE]}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 10_000_000}\r\n\r\n"
    ).encode()
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(request + head + b"\0" * 300_000)
    wait_for(
        lambda: not list((hub.data_dir / "work").glob("upload-*")), what="the upload to be dropped"
    )
    assert tasks(hub.url, "Greeter") == []
    assert terminal(push(hub.url, executor_zip(), id="Greeter"))["type"] == "complete"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
