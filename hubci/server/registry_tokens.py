"""The Hub as the token issuer of its image registry (Docker's registry token scheme).

A distribution registry configured with ``auth: token`` sends a client without a token to its
``realm``, the Hub's ``GET /v2/registry/token``; the Hub answers with a short-lived JWT that names
what the caller may do with which repository (``access``), signed with a key only the Hub holds.
The registry checks the signature against the Hub's certificate (its ``rootcertbundle``); the
token's header carries that certificate (``x5c``), as registries 2.x expect, and the key is also
published as a JWKS (``/v2/.well-known/jwks.json``) for registries that read one.

The key (EC P-256, ES256) and a self-signed certificate for it are made on first use in the
Hub's data folder: ``registry-token.key`` (mode 0600) and ``registry-token.crt`` (the file the
registry's ``rootcertbundle`` names).

Who may do what (:func:`grant`): every repository is ``jinahub/<executor id>``. Anyone, without
credentials too, may pull a public executor's image; its owner may pull a private one; only the
Hub itself (a password it makes at start and keeps in memory) may push. Anything else is not
granted: the token then has no access and the registry refuses the call.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hubci import rules
from hubci.server.config import write_private

#: in the Hub's data folder (hubci.server.config.DATA_DIR_ENTRIES lists them)
KEY_FILE: Final = "registry-token.key"
CERT_FILE: Final = "registry-token.crt"
#: the registry's ``auth.token.issuer`` must be this
ISSUER: Final = "hubci-hub"
#: the registry's ``auth.token.service`` when the client does not name one
DEFAULT_SERVICE: Final = "hubci-registry"
#: how long a token works: a pull or push asks again when it needs to
LIFETIME_SECONDS: Final = 300
CERT_DAYS: Final = 3650
REPOSITORY_PREFIX: Final = "jinahub/"
_MAX_SCOPES = 16


@dataclass(frozen=True)
class Scope:
    """``repository:NAME:pull,push`` from the request's ``scope``."""

    type: str
    name: str
    actions: tuple[str, ...]


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Each ``scope`` value (several may be given, each with several scopes separated by
    spaces); malformed ones are left out (they are simply not granted)."""
    scopes: list[Scope] = []
    for value in values:
        for item in value.split():
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if not kind or not name or not actions or len(item) > 300:
                continue
            wanted = tuple(dict.fromkeys(a for a in actions.split(",") if a))
            scopes.append(Scope(kind, name, wanted))
            if len(scopes) >= _MAX_SCOPES:
                return scopes
    return scopes


@dataclass(frozen=True)
class Caller:
    """Who asks: ``user`` None is anonymous; ``hub`` is the Hub itself (it pushes)."""

    user: str | None = None
    hub: bool = False

    @property
    def subject(self) -> str:
        return "hubci-hub" if self.hub else (self.user or "")


#: executor id -> (owner, visibility), or None when there is no such executor
ExecutorLookup = Callable[[str], "tuple[str, str] | None"]


def grant(scope: Scope, caller: Caller, lookup: ExecutorLookup) -> tuple[str, ...]:
    """The actions of ``scope`` that ``caller`` may do (possibly none)."""
    if scope.type != "repository" or not scope.name.startswith(REPOSITORY_PREFIX):
        return ()
    executor_id = scope.name[len(REPOSITORY_PREFIX) :]
    if not rules.EXECUTOR_ID.fullmatch(executor_id):
        return ()
    if caller.hub:
        return tuple(a for a in scope.actions if a in ("pull", "push"))
    found = lookup(executor_id)
    if found is None or "pull" not in scope.actions:
        return ()
    owner, visibility = found
    if visibility == "public" or (caller.user is not None and caller.user == owner):
        return ("pull",)
    return ()


def libtrust_key_id(public_der: bytes) -> str:
    """The key id registries 2.x compute for a key (libtrust: SHA-256 of the DER public key,
    240 bits, base32, in groups of four)."""
    digest = hashlib.sha256(public_der).digest()[:30]
    text = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenIssuer:
    def __init__(self, key_pem: bytes, cert_pem: bytes, *, clock: Callable[[], float] = time.time):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            msg = "the registry token key is not an EC key"
            raise ValueError(msg)
        self._key = key
        self._cert = x509.load_pem_x509_certificate(cert_pem)
        self.certificate_pem = cert_pem
        public = key.public_key()
        self._public_der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = libtrust_key_id(self._public_der)
        self._x5c = base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()
        numbers = public.public_numbers()
        self._jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
            "kid": self.key_id,
            "use": "sig",
            "alg": "ES256",
            "x5c": [self._x5c],
        }
        #: the password the Hub's own pushes use (never stored; a new one at each start)
        self.hub_password = secrets.token_urlsafe(32)
        self._clock = clock

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> TokenIssuer:
        """The issuer of the Hub whose state is in ``data_dir``: its key and certificate made
        once (the key readable by the Hub's user only)."""
        key_path, cert_path = data_dir / KEY_FILE, data_dir / CERT_FILE
        try:
            key_pem = key_path.read_bytes()
        except FileNotFoundError:
            key_pem = _new_key()
            write_private(key_path, key_pem)
            cert_path.unlink(missing_ok=True)  # a certificate of another key is no use
        try:
            cert_pem = cert_path.read_bytes()
        except FileNotFoundError:
            cert_pem = _self_signed(key_pem)
            partial = cert_path.with_name(cert_path.name + ".tmp")
            partial.write_bytes(cert_pem)
            partial.chmod(0o644)
            partial.replace(cert_path)
        return cls(key_pem, cert_pem)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def issue(self, caller: Caller, service: str, access: list[dict[str, Any]]) -> str:
        """A signed token for ``caller`` granting ``access`` at the registry ``service``."""
        import jwt

        now = int(self._clock())
        claims = {
            "iss": ISSUER,
            "sub": caller.subject,
            "aud": service,
            "exp": now + LIFETIME_SECONDS,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        headers = {"kid": self.key_id, "x5c": [self._x5c]}
        return jwt.encode(claims, self._key, algorithm="ES256", headers=headers)

    def answer(
        self, caller: Caller, service: str, scopes: list[Scope], lookup: ExecutorLookup
    ) -> dict[str, Any]:
        """The token endpoint's JSON for this request."""
        access = []
        for scope in scopes:
            actions = grant(scope, caller, lookup)
            if actions:
                access.append({"type": scope.type, "name": scope.name, "actions": list(actions)})
        token = self.issue(caller, service, access)
        issued = dt.datetime.fromtimestamp(int(self._clock()), tz=dt.timezone.utc)
        granted = " ".join(
            f"{item['type']}:{item['name']}:{','.join(item['actions'])}" for item in access
        )
        return {
            "token": token,
            "access_token": token,
            "scope": granted,
            "expires_in": LIFETIME_SECONDS,
            "issued_at": issued.isoformat().replace("+00:00", "Z"),
        }


def _new_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _self_signed(key_pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hubci hub registry tokens")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
