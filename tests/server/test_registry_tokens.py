"""The Hub as its registry's token issuer: scopes, grants, keys (the registry itself is in
tests/image/test_hub_registry.py)."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hubci.server.embedded import HubHandle
from hubci.server.records import BuildRow
from hubci.server.registry_tokens import (
    CERT_FILE,
    KEY_FILE,
    Caller,
    Scope,
    TokenIssuer,
    grant,
    libtrust_key_id,
    parse_scopes,
)
from hubci.server.rpc import containers

EXECUTORS = {"abcdefgh": ("alice", "private"), "publicab": ("alice", "public")}


def lookup(executor_id: str) -> tuple[str, str] | None:
    return EXECUTORS.get(executor_id)


def test_scopes_are_parsed_as_registries_send_them() -> None:
    assert parse_scopes(["repository:jinahub/abcdefgh:pull,push", "registry:catalog:*"]) == [
        Scope("repository", "jinahub/abcdefgh", ("pull", "push")),
        Scope("registry", "catalog", ("*",)),
    ]
    # several in one value (OAuth2 form), a host with a port in the name, junk left out
    assert parse_scopes(["repository:a/b:pull repository:host:5000/x:pull,pull", "junk", ""]) == [
        Scope("repository", "a/b", ("pull",)),
        Scope("repository", "host:5000/x", ("pull",)),
    ]
    assert len(parse_scopes(["repository:a:pull " * 100])) == 16


@pytest.mark.parametrize(
    ("scope", "caller", "granted"),
    [
        ("repository:jinahub/publicab:pull", Caller(), ("pull",)),
        ("repository:jinahub/publicab:pull,push", Caller(user="bob"), ("pull",)),
        ("repository:jinahub/publicab:push", Caller(user="alice"), ()),
        ("repository:jinahub/abcdefgh:pull", Caller(), ()),
        ("repository:jinahub/abcdefgh:pull", Caller(user="bob"), ()),
        ("repository:jinahub/abcdefgh:pull,push", Caller(user="alice"), ("pull",)),
        ("repository:jinahub/abcdefgh:pull,push,delete", Caller(hub=True), ("pull", "push")),
        ("repository:jinahub/nothere1:pull", Caller(user="alice"), ()),
        ("repository:other/abcdefgh:pull", Caller(hub=True), ()),
        ("repository:jinahub/../x:pull", Caller(hub=True), ()),
        ("registry:catalog:*", Caller(hub=True), ()),
    ],
)
def test_grants(scope: str, caller: Caller, granted: tuple[str, ...]) -> None:
    assert grant(parse_scopes([scope])[0], caller, lookup) == granted


def test_the_key_and_certificate_are_made_once_and_the_key_is_private(tmp_path: Path) -> None:
    first = TokenIssuer.for_data_dir(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    again = TokenIssuer.for_data_dir(tmp_path)
    assert again.certificate_pem == first.certificate_pem
    assert again.key_id == first.key_id
    assert again.hub_password != first.hub_password  # never stored: new at each start
    certificate = x509.load_pem_x509_certificate((tmp_path / CERT_FILE).read_bytes())
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert first.key_id == libtrust_key_id(der)
    (tmp_path / CERT_FILE).unlink()
    assert TokenIssuer.for_data_dir(tmp_path).key_id == first.key_id  # remade from the key


def test_the_libtrust_key_id_is_twelve_groups_of_base32() -> None:
    digest = hashlib.sha256(b"key").digest()[:30]
    expected = base64.b32encode(digest).decode()
    found = libtrust_key_id(b"key")
    assert found.replace(":", "") == expected
    assert [len(part) for part in found.split(":")] == [4] * 12


def test_a_token_is_signed_with_the_published_key_and_carries_the_certificate(
    tmp_path: Path,
) -> None:
    issuer = TokenIssuer.for_data_dir(tmp_path)
    scopes = parse_scopes(["repository:jinahub/abcdefgh:pull,push"])
    answer = issuer.answer(Caller(user="alice"), "my-registry", scopes, lookup)
    assert answer["token"] == answer["access_token"]
    assert answer["scope"] == "repository:jinahub/abcdefgh:pull"
    header = jwt.get_unverified_header(answer["token"])
    assert header["alg"] == "ES256"
    assert header["kid"] == issuer.key_id
    assert header["x5c"] == issuer.jwks()["keys"][0]["x5c"]
    key = jwt.PyJWK(issuer.jwks()["keys"][0])
    claims = jwt.decode(answer["token"], key, algorithms=["ES256"], audience="my-registry")
    assert claims["sub"] == "alice"
    assert claims["access"] == [
        {"type": "repository", "name": "jinahub/abcdefgh", "actions": ["pull"]}
    ]


def test_a_hub_without_a_registry_issues_nothing(hub: HubHandle) -> None:
    assert requests.get(f"{hub.url}/v2/registry/token", timeout=10).status_code == 404
    assert requests.get(f"{hub.url}/v2/.well-known/jwks.json", timeout=10).json() == {"keys": []}
    listed = requests.post(f"{hub.url}/v2/rpc/dockerRegistry.listInternalRegistries", timeout=10)
    assert listed.json()["data"] == []


def _build(images: list[str], tags: list[str], **params: object) -> BuildRow:
    return BuildRow(
        id="b" * 24,
        executor_id="abcdefgh",
        task_id="t" * 24,
        tags=tags,
        platforms=["linux/amd64", "linux/arm64"],
        images=images,
        md5="0" * 32,
        bundle="bundles/x.zip",
        build_env_keys=[],
        created_at="2026-01-01T00:00:00.000Z",
        params=dict(params),
    )


def test_containers_put_the_asked_tag_and_the_preferred_platform_first() -> None:
    refs = ["r:5000/jinahub/abcdefgh:v1", "r:5000/jinahub/abcdefgh:latest"]
    arm = f"r:5000/jinahub/abcdefgh:{'b' * 24}-linux-arm64"
    registry = {"host": "r:5000", "platforms": {"linux/arm64": arm}}
    build = _build(refs, ["v1", "latest"], registry=registry)
    assert containers(build, None, None) == refs
    assert containers(build, "latest", None) == [refs[1], refs[0]]
    assert containers(build, "latest", "linux/arm64") == [arm, *refs]
    assert containers(build, "v1", "linux/s390x") == refs  # not built: the index
    local = _build(["jinahub/abcdefgh:v1"], ["v1"])  # no registry: preferPlatform unused
    assert containers(local, "v1", "linux/arm64") == ["jinahub/abcdefgh:v1"]
