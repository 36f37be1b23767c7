"""hubci.image.registry against registries that misbehave: every call ends by its deadline,
bodies are bounded, digests are checked, a refused token is not retried for ever."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hubci.image import registry
from hubci.image.registry import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    PlatformManifest,
    RegistryClient,
    RegistryError,
    index_of,
    parse_registry_url,
)
from hubci.secret import Secret
from testing.registry import free_port

MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "layers": []}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()

Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Handler) -> str:
        class One(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return

            def do_GET(self) -> None:
                handle(self)

            do_PUT = do_GET

        server = ThreadingHTTPServer(("127.0.0.1", 0), One)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _tokens(calls: list[tuple[str, str, Sequence[str]]]) -> registry.TokenSource:
    def token(service: str, repository: str, actions: Sequence[str]) -> Secret:
        calls.append((service, repository, tuple(actions)))
        return Secret(f"token-{len(calls)}-abcdefgh")

    return token


def _answer(req: BaseHTTPRequestHandler, code: int, body: bytes, **headers: str) -> None:
    req.send_response(code)
    for name, value in headers.items():
        req.send_header(name.replace("_", "-"), value)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def test_a_bearer_challenge_is_answered_with_a_token_for_its_service(
    serve: Callable[[Handler], str],
) -> None:
    seen: list[str | None] = []

    def handle(req: BaseHTTPRequestHandler) -> None:
        seen.append(req.headers.get("Authorization"))
        if req.headers.get("Authorization") is None:
            challenge = 'Bearer realm="http://127.0.0.1:1/token",service="my-registry"'
            _answer(req, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', WWW_Authenticate=challenge)
            return
        _answer(req, 200, MANIFEST, Content_Type=DOCKER_MANIFEST, Docker_Content_Digest=DIGEST)

    calls: list[tuple[str, str, Sequence[str]]] = []
    client = RegistryClient(parse_registry_url(serve(handle)), _tokens(calls))
    found = client.manifest("jinahub/abcdefgh", "v1")
    assert found == Manifest(DOCKER_MANIFEST, MANIFEST, DIGEST)
    assert calls == [("my-registry", "jinahub/abcdefgh", ("pull",))]
    assert seen == [None, "Bearer token-1-abcdefgh"]
    client.manifest("jinahub/abcdefgh", "v1")  # the service is known: the token goes at once
    assert seen[-1] == "Bearer token-2-abcdefgh"


def test_a_refused_token_ends_the_call_with_the_registrys_error_code(
    serve: Callable[[Handler], str],
) -> None:
    count = []

    def handle(req: BaseHTTPRequestHandler) -> None:
        count.append(1)
        challenge = 'Bearer realm="x",service="s"'
        body = b'{"errors":[{"code":"UNAUTHORIZED\\u001b[31m"}]}'
        _answer(req, 401, body, WWW_Authenticate=challenge)

    client = RegistryClient(parse_registry_url(serve(handle)), _tokens([]))
    with pytest.raises(RegistryError) as caught:
        client.put("jinahub/abcdefgh", "v1", DOCKER_MANIFEST, MANIFEST)
    assert len(count) == 2
    assert "HTTP 401" in caught.value.message
    assert "UNAUTHORIZED?" in caught.value.message
    assert "\x1b" not in caught.value.message


def test_a_manifest_whose_bytes_do_not_match_its_digest_is_refused(
    serve: Callable[[Handler], str],
) -> None:
    def handle(req: BaseHTTPRequestHandler) -> None:
        wrong = "sha256:" + "0" * 64
        _answer(req, 200, MANIFEST, Content_Type=DOCKER_MANIFEST, Docker_Content_Digest=wrong)

    client = RegistryClient(parse_registry_url(serve(handle)), _tokens([]))
    with pytest.raises(RegistryError, match="do not match its digest"):
        client.manifest("jinahub/abcdefgh", "v1")


def test_a_huge_manifest_is_refused_without_reading_it(serve: Callable[[Handler], str]) -> None:
    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", DOCKER_MANIFEST)
        req.send_header("Content-Length", str(1 << 40))
        req.end_headers()
        try:
            req.wfile.write(b"{" * 65536)
        except OSError:
            return

    client = RegistryClient(parse_registry_url(serve(handle)), _tokens([]))
    with pytest.raises(RegistryError, match="larger than"):
        client.manifest("jinahub/abcdefgh", "v1")


def test_a_registry_that_drips_its_answer_is_cut_off_at_the_deadline(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "CALL_SECONDS", 1.5)

    def handle(req: BaseHTTPRequestHandler) -> None:
        try:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n" * 100:
                req.wfile.write(bytes([byte]))
                req.wfile.flush()
                time.sleep(0.2)
        except OSError:
            return

    client = RegistryClient(parse_registry_url(serve(handle)), _tokens([]))
    started = time.monotonic()
    with pytest.raises(RegistryError, match="took longer than"):
        client.manifest("jinahub/abcdefgh", "v1")
    assert time.monotonic() - started < 5


def test_a_registry_that_is_not_there_is_one_line() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    client = RegistryClient(parse_registry_url(nowhere), _tokens([]))
    with pytest.raises(RegistryError, match=r"failed: ConnectionError"):
        client.manifest("jinahub/abcdefgh", "v1")


def test_an_index_has_one_entry_per_platform_of_the_family_of_its_manifests() -> None:
    docker = Manifest(DOCKER_MANIFEST, MANIFEST, DIGEST)
    kind, body = index_of(
        [PlatformManifest("linux/amd64", docker), PlatformManifest("linux/arm/v7", docker)]
    )
    assert kind == DOCKER_LIST
    document = json.loads(body)
    assert document["mediaType"] == DOCKER_LIST
    assert [m["platform"] for m in document["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
    ]
    assert {m["size"] for m in document["manifests"]} == {len(MANIFEST)}
    oci = Manifest(OCI_MANIFEST, MANIFEST, DIGEST)
    assert index_of([PlatformManifest("linux/amd64", oci)])[0] == OCI_INDEX
    with pytest.raises(RegistryError, match="different manifest types"):
        index_of([PlatformManifest("linux/amd64", oci), PlatformManifest("linux/arm64", docker)])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("127.0.0.1:5000", "must start with http"),
        ("ftp://registry", "must start with http"),
        ("http://registry/path", "no path or user"),
        ("https://user:pw@registry", "no path or user"),
        ("http://reg istry", "is not a host name"),
        ("http://", "is not a host name"),
    ],
)
def test_a_registry_url_is_a_scheme_a_host_and_a_port(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_registry_url(value)


def test_a_registry_url_names_the_host_of_image_references() -> None:
    target = parse_registry_url(" https://Registry.Example.com:8443/ ")
    assert target.url == "https://registry.example.com:8443"
    assert target.reference("jinahub/abcdefgh", "v1") == (
        "registry.example.com:8443/jinahub/abcdefgh:v1"
    )


def test_an_index_pushed_by_the_engine_gives_the_platforms_own_manifest(
    serve: Callable[[Handler], str],
) -> None:
    """Docker's containerd store pushes an index (with attestations): the platform's entry."""
    attestation = {
        "mediaType": OCI_MANIFEST,
        "digest": "sha256:" + "a" * 64,
        "size": 1,
        "platform": {"os": "unknown", "architecture": "unknown"},
    }
    arm = {
        "mediaType": DOCKER_MANIFEST,
        "digest": DIGEST,
        "size": len(MANIFEST),
        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
    }
    index = json.dumps({"schemaVersion": 2, "manifests": [attestation, arm]}).encode()
    asked: list[str] = []

    def handle(req: BaseHTTPRequestHandler) -> None:
        asked.append(req.path)
        if req.path.endswith(DIGEST):
            _answer(req, 200, MANIFEST, Content_Type=DOCKER_MANIFEST)
        else:
            _answer(req, 200, index, Content_Type=OCI_INDEX)

    client = RegistryClient(parse_registry_url(serve(handle)), _tokens([]))
    assert client.image("jinahub/abcdefgh", "b-linux-arm64", "linux/arm64").digest == DIGEST
    assert asked[-1] == f"/v2/jinahub/abcdefgh/manifests/{DIGEST}"
    with pytest.raises(RegistryError, match="has no image for linux/amd64"):
        client.image("jinahub/abcdefgh", "b-linux-amd64", "linux/amd64")
    assert not client.challenged


def test_publishing_to_a_registry_that_asks_for_no_token_warns_once(
    serve: Callable[[Handler], str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An open registry takes the push, and the Hub's log says what that exposes, once."""
    from hubci.server.builders import PushJob
    from hubci.server.publish import Publisher
    from hubci.server.registry_tokens import TokenIssuer

    put: list[str] = []

    def handle(req: BaseHTTPRequestHandler) -> None:
        if req.command == "PUT":
            length = int(req.headers.get("Content-Length", "0"))
            digest = "sha256:" + hashlib.sha256(req.rfile.read(length)).hexdigest()
            put.append(req.path)
            _answer(req, 201, b"", Docker_Content_Digest=digest)
        else:
            _answer(req, 200, MANIFEST, Content_Type=DOCKER_MANIFEST)

    class Pushes:  # the Engine's part (tests/image/test_hub_registry.py runs the real one)
        reads_content = True

        def __init__(self) -> None:
            self.pushed: list[str] = []

        def push(self, job: PushJob, log: Callable[[str], None]) -> str | None:
            self.pushed.append(job.reference)
            return None

    builder = Pushes()
    target = parse_registry_url(serve(handle))
    publisher = Publisher(target, TokenIssuer.for_data_dir(tmp_path), builder)  # type: ignore[arg-type]
    for build in ("a" * 24, "b" * 24):
        done = publisher.publish(
            "jinahub/abcdefgh", build, ["v1", "latest"], {"linux/amd64": "x"}, print
        )
    assert done.references == [
        f"{target.host}/jinahub/abcdefgh:v1",
        f"{target.host}/jinahub/abcdefgh:latest",
    ]
    assert done.platforms == {
        "linux/amd64": f"{target.host}/jinahub/abcdefgh:{'b' * 24}-linux-amd64"
    }
    assert put == ["/v2/jinahub/abcdefgh/manifests/v1", "/v2/jinahub/abcdefgh/manifests/latest"] * 2
    warnings = [r for r in caplog.records if "took a push without asking for a token" in r.message]
    assert len(warnings) == 1
