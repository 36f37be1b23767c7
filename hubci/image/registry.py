"""The few OCI distribution API calls the Hub makes itself: read a manifest, put one under
another tag, and put a manifest list (an image index) over one manifest per platform.

Images reach the registry through the Docker Engine API's push (the Engine uploads the layers);
what the Engine cannot do, giving an image more tags without pushing it again and joining the
platforms of one build under one tag, is done here with the registry's HTTP API. Every call has
a deadline that holds whatever the registry does (:mod:`hubci.netguard`), manifests are read up
to :data:`MAX_MANIFEST_BYTES`, and a manifest's digest is checked against its bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from hubci.errors import HubciError
from hubci.netguard import BodyRefused, GuardedAdapter, guard, read_body
from hubci.secret import Secret

#: the registry's limit for a manifest is 4 MiB too
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
CALL_SECONDS = 60.0

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEXES = (DOCKER_LIST, OCI_INDEX)
#: the index type that goes with each manifest type (a list never mixes the two families)
INDEX_FOR = {DOCKER_MANIFEST: DOCKER_LIST, OCI_MANIFEST: OCI_INDEX}

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)


class RegistryError(HubciError):
    """A registry call failed; the message is one line naming the call."""


@dataclass(frozen=True)
class RegistryTarget:
    """Where the Hub keeps its images: ``http(s)://HOST[:PORT]``."""

    url: str  # without a trailing slash

    @property
    def host(self) -> str:
        """The registry part of an image reference: ``HOST[:PORT]``."""
        return urlsplit(self.url).netloc

    def reference(self, repository: str, tag: str) -> str:
        return f"{self.host}/{repository}:{tag}"


def parse_registry_url(value: str) -> RegistryTarget:
    """``http(s)://HOST[:PORT]`` as a target; ValueError with what is wrong otherwise."""
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        msg = "the registry URL must start with http:// or https://"
        raise ValueError(msg)
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        msg = "the registry URL is only a scheme, a host and a port (no path or user)"
        raise ValueError(msg)
    if not _HOST.fullmatch(parts.netloc):
        msg = f"{parts.netloc[:80]!r} is not a host name with an optional port"
        raise ValueError(msg)
    return RegistryTarget(url=f"{parts.scheme}://{parts.netloc.lower()}")


@dataclass(frozen=True)
class Manifest:
    media_type: str
    body: bytes
    digest: str  # "sha256:<64 hex>" of ``body``


@dataclass(frozen=True)
class PlatformManifest:
    platform: str  # "linux/arm64", "linux/arm/v7"
    manifest: Manifest


#: ``token(service, repository, actions)``: a bearer token for those actions at the registry
#: ``service`` (the name its challenge gives)
TokenSource = Callable[[str, str, Sequence[str]], Secret]


class RegistryClient:
    """Calls to one registry. The first call goes without a token; when the registry asks for
    one (``WWW-Authenticate: Bearer … service=…``), tokens from ``token`` go with every call."""

    def __init__(self, target: RegistryTarget, token: TokenSource) -> None:
        self.target = target
        self._token = token
        self._service: str | None = None  # known once the registry has challenged us
        self._session = requests.Session()
        self._session.trust_env = False  # the Hub's registry, never through a proxy
        adapter = GuardedAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    @property
    def challenged(self) -> bool:
        """Whether the registry has asked for a token (False: it lets anyone in)."""
        return self._service is not None

    def _call(
        self, method: str, repository: str, reference: str, actions: Sequence[str], **kw: Any
    ) -> tuple[requests.Response, bytes]:
        for attempt in (1, 2):
            resp, body = self._once(method, repository, reference, actions, **kw)
            if resp.status_code != 401 or attempt == 2:
                break
            service = _bearer_service(resp.headers.get("WWW-Authenticate", ""))
            if service is None or service == self._service:
                break  # not a token registry, or our token was refused: no second try
            self._service = service
        if resp.status_code >= 300:
            msg = (
                f"registry {self.target.host} answered HTTP {resp.status_code} to {method} "
                f"{repository}:{reference}: {_error_code(body)}"
            )
            raise RegistryError(msg)
        return resp, body

    def _once(
        self, method: str, repository: str, reference: str, actions: Sequence[str], **kw: Any
    ) -> tuple[requests.Response, bytes]:
        url = f"{self.target.url}/v2/{repository}/manifests/{reference}"
        headers = dict(kw.get("headers", {}))
        if self._service is not None:
            token = self._token(self._service, repository, actions)
            headers["Authorization"] = f"Bearer {token.reveal()}"
            token.release()  # minted for this call; it lives a few minutes at most
        extra = {k: v for k, v in kw.items() if k != "headers"}
        what = f"the registry's answer to {method} {repository}:{reference}"
        with guard(time.monotonic() + CALL_SECONDS) as dog:
            try:
                resp = self._session.request(
                    method, url, headers=headers, timeout=(10, CALL_SECONDS), stream=True, **extra
                )
                with resp:
                    body = read_body(resp, limit=MAX_MANIFEST_BYTES, what=what)
            except BodyRefused as exc:
                raise RegistryError(exc.message) from None
            except requests.RequestException as exc:
                if dog.fired:
                    msg = f"{method} {repository}:{reference} took longer than {CALL_SECONDS:.0f} s"
                else:
                    msg = f"{method} {repository}:{reference} failed: {type(exc).__name__}"
                raise RegistryError(f"registry {self.target.host}: {msg}") from None
        return resp, body

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The image manifest a tag points at (one platform's image, as the Engine pushed it)."""
        found = self._get(repository, reference, MANIFESTS)
        if found.media_type not in MANIFESTS:
            raise self._not_an_image(repository, reference, found.media_type)
        return found

    def image(self, repository: str, reference: str, platform: str) -> Manifest:
        """The manifest of ``platform``'s image under ``reference``: the manifest itself, or,
        when the Engine pushed an index (Docker's containerd store, attestations), the
        index's entry for that platform."""
        found = self._get(repository, reference, MANIFESTS + INDEXES)
        if found.media_type in MANIFESTS:
            return found
        if found.media_type not in INDEXES:
            raise self._not_an_image(repository, reference, found.media_type)
        digest = _entry_for(found.body, platform)
        if digest is None:
            msg = f"{repository}:{reference} has no image for {platform}"
            raise RegistryError(f"registry {self.target.host}: {msg}")
        return self.manifest(repository, digest)

    def _get(self, repository: str, reference: str, accept: Sequence[str]) -> Manifest:
        resp, body = self._call(
            "GET", repository, reference, ("pull",), headers={"Accept": ", ".join(accept)}
        )
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(media_type, body, _checked_digest(resp, body))

    def _not_an_image(self, repository: str, reference: str, media_type: str) -> RegistryError:
        shown = "".join(c if c.isprintable() else "?" for c in media_type)[:80]
        msg = f"{repository}:{reference} is a {shown!r}, not an image manifest"
        return RegistryError(f"registry {self.target.host}: {msg}")

    def put(self, repository: str, reference: str, media_type: str, body: bytes) -> str:
        """Put a manifest (or an index) under ``reference``; its digest."""
        resp, _ = self._call(
            "PUT",
            repository,
            reference,
            ("pull", "push"),
            headers={"Content-Type": media_type},
            data=body,
        )
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        answered = resp.headers.get("Docker-Content-Digest", digest)
        if answered != digest:
            msg = f"registry {self.target.host} stored {repository}:{reference} as another digest"
            raise RegistryError(msg)
        return digest


_SERVICE = re.compile(r'service="([^"]{1,200})"')


def _bearer_service(challenge: str) -> str | None:
    """The ``service`` of a ``Bearer`` challenge (None: no token scheme)."""
    if not challenge.strip().lower().startswith("bearer"):
        return None
    found = _SERVICE.search(challenge)
    return found.group(1) if found and found.group(1).isprintable() else ""


def _entry_for(index: bytes, platform: str) -> str | None:
    """The digest of ``platform``'s image manifest in an index (attestations and other
    entries without a real platform are passed over)."""
    os_name, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    try:
        entries = json.loads(index)["manifests"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("mediaType") not in MANIFESTS:
            continue
        where = entry.get("platform")
        if not isinstance(where, dict):
            continue
        if where.get("os") != os_name or where.get("architecture") != arch:
            continue
        if variant and where.get("variant") not in (variant, None):
            continue
        digest = entry.get("digest")
        if isinstance(digest, str) and _DIGEST.fullmatch(digest):
            return digest
    return None


def _checked_digest(resp: requests.Response, body: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    answered = resp.headers.get("Docker-Content-Digest")
    if answered is not None and _DIGEST.fullmatch(answered) and answered != digest:
        msg = "the registry sent a manifest whose bytes do not match its digest"
        raise RegistryError(msg)
    return digest


def _error_code(body: bytes) -> str:
    """The first error code of a distribution error body, made printable and short."""
    try:
        errors = json.loads(body)["errors"]
        code = str(errors[0]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "no error code"
    return "".join(c if c.isalnum() or c in "_-" else "?" for c in code)[:40]


def index_of(manifests: Sequence[PlatformManifest]) -> tuple[str, bytes]:
    """An image index (a manifest list) over one manifest per platform: media type, bytes."""
    kinds = {m.manifest.media_type for m in manifests}
    if len(kinds) != 1:
        msg = "the platforms' images were pushed as different manifest types"
        raise RegistryError(msg)
    media_type = INDEX_FOR[kinds.pop()]
    entries = []
    for item in manifests:
        os_name, _, rest = item.platform.partition("/")
        arch, _, variant = rest.partition("/")
        platform: dict[str, str] = {"architecture": arch, "os": os_name}
        if variant:
            platform["variant"] = variant
        entries.append(
            {
                "mediaType": item.manifest.media_type,
                "size": len(item.manifest.body),
                "digest": item.manifest.digest,
                "platform": platform,
            }
        )
    document = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    return media_type, json.dumps(document, indent=3).encode()
