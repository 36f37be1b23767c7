"""``hub serve --builder docker --registry URL``: images in a real registry, tokens by the Hub.

One stack per module, all on loopback: a CNCF distribution registry (Debian's
``docker-registry``) with ``auth: token`` pointing at the Hub, an Engine the Hub builds and
pushes with, a second, empty Engine that pulls as a consumer would, and ``hubci hub serve`` as
its own process on the port the registry's realm names.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from testing.engine import EngineStartError, unavailable
from testing.hub import ALICE, ALICE_TOKEN, BOB_TOKEN, USERS, start_hub_process
from testing.hubble import run_official
from testing.registry import HubStack, RegistryStartError, free_port, start_stack

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, registry_binary: str) -> Iterator[HubStack]:
    del registry_binary  # only its check (skip or fail when docker-registry is missing)
    try:
        started = start_stack(tmp_path_factory.mktemp("registry-stack"), USERS)
    except EngineStartError as exc:
        unavailable(str(exc))
    except RegistryStartError as exc:
        pytest.fail(str(exc))
    yield started
    started.stop()


def _push(
    run_hubci: Callable[[list[str]], Any], stack: HubStack, folder: Path, *args: str
) -> dict[str, Any]:
    cmd = ["push", str(folder), "--hub-url", stack.hub.url, "--token", ALICE_TOKEN]
    result = run_hubci([*cmd, "--format", "json", *args])
    assert result.code == 0, result.err + stack.hub.stderr()[-3000:]
    found: dict[str, Any] = json.loads(result.out)
    return found


def _auth(token: str) -> dict[str, str]:
    """What the official client's credential helper gives the Engine."""
    return {"username": "<token>", "password": token}


def test_a_public_build_is_pulled_from_the_registry_by_an_empty_engine(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    started = time.monotonic()
    pushed = _push(run_hubci, stack, scratch_executor, "--public", "-t", "v1")
    pushed_at = time.monotonic()
    executor_id = pushed["executor"]["id"]
    answer = stack.package(f"{ALICE}/{pushed['executor']['name']}", tag="v1")
    assert answer.status_code == 200, answer.text
    containers = answer.json()["data"]["package"]["containers"]
    assert containers[0] == f"{stack.registry.host}/jinahub/{executor_id}:v1"
    client = stack.consumer.client()
    try:
        image = client.images.pull(containers[0])  # anonymous: a public executor
        pulled_at = time.monotonic()
        assert image.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
        assert image.attrs["Architecture"] == "amd64"
    finally:
        client.close()
    print(f"push {pushed_at - started:.2f} s, pull {pulled_at - pushed_at:.2f} s")


def test_a_private_multi_platform_build_is_one_index_and_only_its_owner_pulls_it(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    import docker.errors

    platforms = "linux/amd64,linux/arm64"
    pushed = _push(
        run_hubci, stack, scratch_executor, "--private", "-t", "v2", "--platform", platforms
    )
    executor_id = pushed["executor"]["id"]
    ref = f"{ALICE}/{pushed['executor']['name']}"
    answer = stack.package(ref, ALICE_TOKEN, tag="v2")
    assert answer.status_code == 200, answer.text
    plain = f"{stack.registry.host}/jinahub/{executor_id}:v2"
    assert answer.json()["data"]["package"]["containers"][0] == plain
    arm = stack.package(ref, ALICE_TOKEN, tag="v2", preferPlatform="linux/arm64")
    arm_ref = arm.json()["data"]["package"]["containers"][0]
    # the platform's image under a name of this build alone (no later push can move it)
    assert re.fullmatch(rf"{re.escape(plain[:-3])}:[0-9a-f]{{24}}-linux-arm64", arm_ref), arm_ref

    # the plain tag is one index over both platforms, as the registry keeps it
    token = _token(stack, ALICE_TOKEN, f"repository:jinahub/{executor_id}:pull")
    index = requests.get(
        f"{stack.registry.url}/v2/jinahub/{executor_id}/manifests/v2",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.oci.image.index.v1+json, "
            "application/vnd.docker.distribution.manifest.list.v2+json",
        },
        timeout=30,
    )
    assert index.status_code == 200, index.text
    listed = {
        f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index.json()["manifests"]
    }
    assert listed == {"linux/amd64", "linux/arm64"}

    client = stack.consumer.client()
    try:
        with pytest.raises(docker.errors.APIError):
            client.images.pull(plain)  # anonymous
        with pytest.raises(docker.errors.APIError):
            client.images.pull(plain, auth_config=_auth(BOB_TOKEN))
        with pytest.raises(docker.errors.APIError):
            client.images.pull(plain, auth_config=_auth("not-a-token-of-this-hub"))
        image = client.images.pull(plain, auth_config=_auth(ALICE_TOKEN))
        assert image.attrs["Architecture"] == "amd64"  # the index gave the engine's platform
        other = client.images.pull(arm_ref, auth_config=_auth(ALICE_TOKEN))
        assert other.attrs["Architecture"] == "arm64"
    finally:
        client.close()


def _token(stack: HubStack, password: str | None, scope: str) -> str:
    auth = None if password is None else ("<token>", password)
    answer = requests.get(
        f"{stack.hub.url}/v2/registry/token",
        params={"service": "hubci-registry", "scope": scope},
        auth=auth,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def test_the_token_endpoint_grants_what_the_hub_allows_and_signs_with_its_published_key(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    pushed = _push(run_hubci, stack, scratch_executor, "--private", "-t", "v3")
    scope = f"repository:jinahub/{pushed['executor']['id']}:pull,push"
    keys = requests.get(f"{stack.hub.url}/v2/.well-known/jwks.json", timeout=30).json()["keys"]
    assert len(keys) == 1, keys
    assert keys[0]["x5c"], keys
    key = jwt.PyJWK(keys[0])

    def access(password: str | None) -> list[Any]:
        claims = jwt.decode(
            _token(stack, password, scope), key, algorithms=["ES256"], audience="hubci-registry"
        )
        assert claims["iss"] == "hubci-hub"
        assert 0 < claims["exp"] - time.time() <= 300
        found: list[Any] = claims["access"]
        return found

    name = f"jinahub/{pushed['executor']['id']}"
    assert access(ALICE_TOKEN) == [{"type": "repository", "name": name, "actions": ["pull"]}]
    assert access(BOB_TOKEN) == []
    assert access(None) == []
    assert access("anonymous") == []  # the credential helper's word for "no token"
    refused = requests.get(
        f"{stack.hub.url}/v2/registry/token",
        params={"scope": scope},
        auth=("<token>", "not-a-token-of-this-hub"),
        timeout=30,
    )
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    hosts = requests.post(
        f"{stack.hub.url}/v2/rpc/dockerRegistry.listInternalRegistries", timeout=30
    ).json()
    assert hosts["data"] == [stack.registry.host]


def test_the_registry_refuses_tokens_the_hub_did_not_sign(stack: HubStack) -> None:
    """A token signed by another key (with its own certificate in x5c) is refused."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from hubci.server.registry_tokens import _new_key, _self_signed

    key_pem = _new_key()
    key = serialization.load_pem_private_key(key_pem, password=None)
    certificate = x509.load_pem_x509_certificate(_self_signed(key_pem))
    x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "hubci-hub",
            "sub": "mallory",
            "aud": "hubci-registry",
            "exp": now + 60,
            "nbf": now - 10,
            "iat": now,
            "jti": "x",
            "access": [{"type": "repository", "name": "jinahub/abcdefgh", "actions": ["push"]}],
        },
        key,  # type: ignore[arg-type]
        algorithm="ES256",
        headers={"x5c": [x5c]},
    )
    answer = requests.get(
        f"{stack.registry.url}/v2/jinahub/abcdefgh/tags/list",
        headers={"Authorization": f"Bearer {forged}"},
        timeout=30,
    )
    assert answer.status_code == 401


def test_the_official_client_logs_in_and_pulls_a_private_image_through_its_credential_helper(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any], tmp_path: Path
) -> None:
    """``jina auth login`` asks ``listInternalRegistries`` and names its credential helper for
    the registry in ``~/.docker/config.json``; ``jina hub pull jinaai+docker://…`` then pulls
    into the Engine, which gets a token with the helper's identity token (OAuth2 POST)."""
    import os

    from testing.hubble import hubble_python, official_env

    python = hubble_python()
    pushed = _push(run_hubci, stack, scratch_executor, "--private", "-t", "v4")
    name = pushed["executor"]["name"]
    home = tmp_path / "home"
    home.mkdir()
    env = official_env(stack.hub.url, ALICE_TOKEN, home)
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"  # docker-credential-jina-hubble
    env["DOCKER_HOST"] = stack.consumer.url
    login = subprocess.run(
        [str(python), "-m", "hubble", "login"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stdout + login.stderr
    config = json.loads((home / ".docker" / "config.json").read_text(encoding="utf-8"))
    assert config["credHelpers"] == {stack.registry.host: "jina-hubble"}
    pull = run_official(["pull", f"jinaai+docker://{ALICE}/{name}:v4"], env=env, cwd=home)
    assert pull.returncode == 0, pull.stdout[-2000:] + pull.stderr[-2000:]
    reference = f"{stack.registry.host}/jinahub/{pushed['executor']['id']}:v4"
    client = stack.consumer.client()
    try:
        # the client reports success even when the Engine's pull failed: ask the Engine
        image = client.images.get(reference)
        assert image.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
    finally:
        client.close()


def test_a_reused_build_puts_its_images_into_the_registry_under_the_new_tag(
    stack: HubStack, make_executor: Callable[..., Path], run_hubci: Callable[[list[str]], Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    folder = make_executor(tmp_path / "reused")
    first = _push(run_hubci, stack, folder, "--public", "-t", "r1")
    args = ["push", str(folder), "--hub-url", stack.hub.url, "--token", ALICE_TOKEN]
    again = run_hubci([*args, "--public", "-t", "r2", "--force-build", "--format", "json"])
    assert again.code == 0, again.err
    assert "reusing build" in again.err
    reference = f"{stack.registry.host}/jinahub/{first['executor']['id']}:r2"
    client = stack.consumer.client()
    try:
        image = client.images.pull(reference)
        assert image.attrs["Config"]["Labels"]["org.example.kind"] == "scratch-executor"
    finally:
        client.close()


def test_a_registry_that_cannot_be_reached_fails_the_build_with_its_reason(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any], tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    hub = start_hub_process(
        tmp_path / "hub",
        users=USERS,
        args=["--builder", "docker", "--registry", nowhere],
        env={"DOCKER_HOST": stack.builds.url},
    )
    try:
        args = ["push", str(scratch_executor), "--hub-url", hub.url, "--token", ALICE_TOKEN]
        result = run_hubci([*args, "--public", "-t", "x1"])
    finally:
        hub.stop()
    assert result.code != 0
    assert f"failed: the build failed: pushing {nowhere[len('http://') :]}/jinahub/" in result.out
    assert "Traceback" not in result.err + hub.stderr()


def _post_token(stack: HubStack, form: list[tuple[str, str]]) -> requests.Response:
    return requests.post(f"{stack.hub.url}/v2/registry/token", data=form, timeout=30)


def test_the_oauth2_form_takes_every_scope_and_refuses_what_it_does_not_know(
    stack: HubStack, scratch_executor: Path, run_hubci: Callable[[list[str]], Any]
) -> None:
    one = _push(run_hubci, stack, scratch_executor, "--public", "-t", "o1")["executor"]["id"]
    scopes = [("scope", f"repository:jinahub/{one}:pull"), ("scope", "repository:jinahub/x:pull")]
    answer = _post_token(
        stack, [("grant_type", "refresh_token"), ("refresh_token", BOB_TOKEN), *scopes]
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["scope"] == f"repository:jinahub/{one}:pull"
    password = [("grant_type", "password"), ("username", "x"), ("password", ALICE_TOKEN)]
    assert _post_token(stack, password).status_code == 200
    wrong = [("grant_type", "refresh_token"), ("refresh_token", "not-a-token-of-this-hub")]
    assert _post_token(stack, wrong).status_code == 401
    unknown = _post_token(stack, [("grant_type", "client_credentials")])
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unsupported_grant_type"
    as_json = requests.post(
        f"{stack.hub.url}/v2/registry/token", json={"grant_type": "password"}, timeout=30
    )
    assert as_json.status_code == 400
    too_big = requests.post(
        f"{stack.hub.url}/v2/registry/token",
        data=[("grant_type", "password"), ("pad", "x" * 2_000_000)],
        timeout=30,
    )
    assert too_big.status_code == 400
    assert "Traceback" not in stack.hub.stderr()


def test_an_engine_name_of_a_private_build_is_not_left_for_other_accounts_to_build_from(
    stack: HubStack, make_executor: Callable[..., Path], run_hubci: Callable[[list[str]], Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    """Builds of every account share the Engine: with a registry, the Engine names a build's
    images after its task alone (a name only the owner learns), so another account's
    ``FROM jinahub/<id>:<tag>`` finds nothing."""
    secret = make_executor(tmp_path / "secret")
    alice = _push(run_hubci, stack, secret, "--private", "-t", "p1")["executor"]["id"]
    client = stack.builds.client()
    try:
        names = [tag for image in client.images.list() for tag in image.tags]
    finally:
        client.close()
    mine = [name.rpartition(":")[2] for name in names if f"jinahub/{alice}:" in name]
    assert mine, names
    assert all(re.fullmatch(r"[0-9a-f]{24}(-linux-[a-z0-9]+)?", tag) for tag in mine), mine
    copier = make_executor(tmp_path / "copier", f"FROM jinahub/{alice}:p1\n")
    args = ["push", str(copier), "--hub-url", stack.hub.url, "--token", BOB_TOKEN]
    result = run_hubci([*args, "--public", "-t", "c1", "--name", "Copier"])
    assert result.code != 0
    assert "docker build exited with code 1" in result.out + result.err


def test_concurrent_builds_under_one_tag_leave_the_registry_as_the_hub_records_it(
    stack: HubStack, make_executor: Callable[..., Path], run_hubci: Callable[[list[str]], Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    folders = [make_executor(tmp_path / f"race{n}") for n in range(3)]
    for n, folder in enumerate(folders):
        (folder / "data" / "payload.txt").write_text(f"payload {n}\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "hubci", "push", "--hub-url", stack.hub.url]
    cmd += ["--token", ALICE_TOKEN, "--public", "-t", "same", "--name", "Racer"]
    pushes = [
        subprocess.Popen([*cmd, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for folder in folders
    ]
    outputs = [push.communicate(timeout=300) for push in pushes]
    assert [push.returncode for push in pushes] == [0, 0, 0], outputs
    answer = stack.package(f"{ALICE}/Racer", tag="same", preferPlatform="linux/amd64")
    own, plain = answer.json()["data"]["package"]["containers"][:2]
    media = "application/vnd.oci.image.manifest.v1+json, " + (
        "application/vnd.docker.distribution.manifest.v2+json"
    )
    digests = []
    for ref in (own, plain):
        repository, _, tag = ref.partition("/")[2].rpartition(":")
        token = _token(stack, ALICE_TOKEN, f"repository:{repository}:pull")
        head = requests.head(
            f"{stack.registry.url}/v2/{repository}/manifests/{tag}",
            headers={"Authorization": f"Bearer {token}", "Accept": media},
            timeout=30,
        )
        digests.append(head.headers["Docker-Content-Digest"])
    assert digests[0] == digests[1]  # the tag holds the build the Hub answers for it


@pytest.mark.parametrize("stop", ["deadline", "cancel"])
def test_an_engine_push_ends_at_its_deadline_or_when_the_hub_stops(
    stack: HubStack, scratch_executor: Path, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    import threading

    from hubci.secret import Secret
    from hubci.server.builders import PushJob
    from hubci.server.builders.docker import DockerBuilder

    monkeypatch.setenv("DOCKER_HOST", stack.builds.url)
    client = stack.builds.client()
    try:
        image, _ = client.images.build(path=str(scratch_executor), tag="localhost/deadline:1")
    finally:
        client.close()
    cancel = threading.Event()
    if stop == "cancel":
        cancel.set()
    job = PushJob(
        image.id,
        f"{stack.registry.host}/jinahub/abcdefgh:deadline",
        "hubci-hub",
        Secret("not-the-hubs-password"),
        cancel=cancel,
        seconds=0 if stop == "deadline" else 600,
    )
    failed = DockerBuilder().push(job, lambda _line: None)
    expected = "took longer than 0 s" if stop == "deadline" else "cancelled: the Hub is stopping"
    assert failed is not None
    assert expected in failed


def test_after_all_of_the_above_the_hubs_log_holds_no_token(stack: HubStack) -> None:
    """Runs last in this module: no registry token the Hub minted or issued (JWTs start with
    ``eyJ``), and no account token, reached the Hub's log."""
    log = stack.hub.stderr()
    assert "registry/token" in log  # the log is the one that saw the token requests
    assert "eyJ" not in log
    assert ALICE_TOKEN not in log
    assert BOB_TOKEN not in log
