"""Package downloads: public ones for anyone, private ones through a short-lived signed link
that only the owner's getPackage hands out (the official client downloads without a token)."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import requests

from hubci.server.embedded import HubHandle
from hubci.server.signing import UrlSigner
from testing.hub import ALICE_TOKEN, BOB_TOKEN

from .helpers import executor_files, executor_zip, push, rpc, terminal, zip_bytes


def _package(hub: HubHandle, name: str, token: str | None = None) -> requests.Response:
    kwargs = {} if token is None else {"token": token}
    return rpc(hub.url, "executor.getPackage", json={"id": f"alice/{name}"}, **kwargs)


def test_a_private_package_is_fetched_by_its_owner_through_a_signed_link(
    hub: HubHandle,
) -> None:
    bundle = executor_zip("Secretive")
    terminal(push(hub.url, bundle, id="Secretive", private="True"))
    answer = _package(hub, "Secretive")
    assert answer.status_code == 200, answer.text
    package = answer.json()["data"]["package"]
    link = package["download"]
    query = parse_qs(urlsplit(link).query)
    assert set(query) == {"expires", "signature"}
    got = requests.get(link, timeout=30)  # no token, as the official client downloads it
    assert got.status_code == 200
    assert hashlib.md5(got.content).hexdigest() == package["md5"]
    bare = link.split("?", 1)[0]
    assert requests.get(bare, timeout=30).status_code == 404  # unsigned: as if it did not exist
    forged = link.replace(query["signature"][0], "0" * 64)
    assert requests.get(forged, timeout=30).status_code == 404
    assert _package(hub, "Secretive", BOB_TOKEN).status_code == 404  # others get no link


def test_a_signed_link_names_one_build(hub: HubHandle) -> None:
    terminal(push(hub.url, executor_zip("One"), id="One", private="True"))
    terminal(push(hub.url, executor_zip("Two"), id="Two", private="True"))
    one = _package(hub, "One").json()["data"]["package"]["download"]
    two = _package(hub, "Two").json()["data"]["package"]["download"]
    swapped = two.split("?", 1)[0] + "?" + one.split("?", 1)[1]
    assert requests.get(swapped, timeout=30).status_code == 404


def test_public_packages_need_no_signature(hub: HubHandle) -> None:
    terminal(push(hub.url, executor_zip("Open"), id="Open"))
    link = _package(hub, "Open").json()["data"]["package"]["download"]
    assert "?" not in link
    assert requests.get(link, timeout=30).status_code == 200


def test_the_signer() -> None:
    now = [1_000_000.0]
    signer = UrlSigner(b"k" * 32, lifetime=600, clock=lambda: now[0])
    query = parse_qs(signer.query("/v2/executor/download/b1"))
    expires, signature = query["expires"][0], query["signature"][0]
    assert signer.verify("/v2/executor/download/b1", expires, signature)
    assert not signer.verify("/v2/executor/download/b2", expires, signature)
    assert not signer.verify("/v2/executor/download/b1", str(int(expires) + 1), signature)
    assert not signer.verify("/v2/executor/download/b1", expires, None)
    assert not signer.verify("/v2/executor/download/b1", "-5", signature)
    assert not signer.verify("/v2/executor/download/b1", str(10**20), signature)
    other = UrlSigner(b"x" * 32, lifetime=600, clock=lambda: now[0])
    assert not other.verify("/v2/executor/download/b1", expires, signature)
    now[0] += 601
    assert not signer.verify("/v2/executor/download/b1", expires, signature)  # expired


def _download(link: str) -> dict[str, bytes]:
    import io
    import zipfile

    got = requests.get(link, timeout=30)
    assert got.status_code == 200
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_the_package_is_what_the_hub_built(hub: HubHandle) -> None:
    """Pushed without config.yml or Dockerfile: the package holds the generated ones (what the
    build used), with its own md5; commitParams.md5sum stays the uploaded bundle's."""
    files = executor_files("Bare")
    del files["config.yml"]
    bundle = zip_bytes(files)
    terminal(push(hub.url, bundle, id="Bare"))
    data = _package(hub, "Bare").json()["data"]
    package = data["package"]
    got = requests.get(package["download"], timeout=30).content
    assert hashlib.md5(got).hexdigest() == package["md5"]
    assert data["commit"]["commitParams"]["md5sum"] == hashlib.md5(bundle).hexdigest()
    assert package["md5"] != data["commit"]["commitParams"]["md5sum"]
    content = _download(package["download"])
    assert b"jtype: Bare" in content["config.yml"]
    assert b"\nFROM jinaai/jina:" in content["Dockerfile"]
    assert content["executor.py"] == files["executor.py"].encode()
    again = _package(hub, "Bare").json()["data"]["package"]
    assert again["md5"] == package["md5"]  # made once, then served as it is


def test_the_package_keeps_every_uploaded_file_as_it_was(hub: HubHandle) -> None:
    """With its own Dockerfile, the bundle's files are served unchanged; the Hub's build
    wrapper (__jina__.Dockerfile, what the normalizer wrote) is added."""
    import io
    import zipfile

    dockerfile = "FROM jinaai/jina:3-py38-perf\nCOPY . /w/\n"
    bundle = executor_zip("Whole", Dockerfile=dockerfile)
    terminal(push(hub.url, bundle, id="Whole"))
    package = _package(hub, "Whole").json()["data"]["package"]
    content = _download(package["download"])
    with zipfile.ZipFile(io.BytesIO(bundle)) as uploaded:
        for info in uploaded.infolist():
            assert content[info.filename] == uploaded.read(info), info.filename
    assert set(content) - set(uploaded.namelist()) == {"__jina__.Dockerfile"}


def test_an_unread_entry_with_a_broken_header_is_refused_at_once(hub: HubHandle) -> None:
    """A large entry the check builder would never read (a placeholder) with a broken local
    header: refused when the bundle is unpacked, not found out later when the package is made."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for rel, text in executor_files("Broken").items():
            archive.writestr(rel, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("weights.bin", b"\x01" * (2 << 20), compress_type=zipfile.ZIP_STORED)
        weights = archive.getinfo("weights.bin").header_offset
    data = bytearray(buffer.getvalue())
    data[weights : weights + 4] = b"XXXX"  # no longer a local file header
    last = push(hub.url, bytes(data), id="Broken")[-1]
    assert last["type"] == "error"
    assert last["subject"] == "extractZip"
    assert "no local file header" in last["message"]


def test_behind_a_tls_proxy_on_loopback_links_name_the_public_url(hub: HubHandle) -> None:
    """A proxy on the same host passes Host and X-Forwarded-Proto (docs/self-hosting.md): the
    links the client is given must be its https URL, not the Hub's loopback port."""
    terminal(push(hub.url, executor_zip("Proxied"), id="Proxied", private="True"))
    headers = {
        "Authorization": f"token {ALICE_TOKEN}",
        "Host": "hub.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.7",
    }
    answer = requests.post(
        f"{hub.url}/v2/rpc/executor.getPackage",
        json={"id": "alice/Proxied"},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    link = answer.json()["data"]["package"]["download"]
    assert link.startswith("https://hub.example.com/v2/executor/download/"), link
