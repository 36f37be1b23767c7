"""Secret-looking files that would be uploaded with the bundle.

Findings name the file (and the line, where one line gives it away) but never quote content.
Files are judged by name first; content is read only for the few names that need it (private
keys, registry rc files, Docker's config.json), and only their first :data:`_READ_LIMIT` bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from hubci.bundle import codes
from hubci.bundle.files import BundleEntry
from hubci.findings import Finding, Severity

_READ_LIMIT: Final = 1024 * 1024
_ENV_SHARED: Final = frozenset({".env.example", ".env.sample", ".env.template"})
_SSH_KEY: Final = re.compile(r"^id_(rsa|dsa|ecdsa|ed25519)([._-].*)?$")
_PRIVATE_KEY: Final = re.compile(rb"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")
#: .npmrc: `_authToken=`, `_auth=`, `_password=`, also scoped (`//host/:_authToken=`)
_NPMRC_SECRET: Final = re.compile(r"^\s*(\S*:)?(_authToken|_auth|_password)\s*=\s*\S")
#: .pypirc: a `password` (or `token`) with a value
_PYPIRC_SECRET: Final = re.compile(r"^\s*(password|token)\s*[=:]\s*\S", re.IGNORECASE)
#: A ``.env`` line that gives a variable a value (``KEY=value``, ``export KEY=value``).
_ENV_VALUE: Final = re.compile(
    rb"(?m)^[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*\S"
)
_HINT: Final = "never upload credentials: " + codes.IGNORE_HINT


def secret_findings(entries: Iterable[BundleEntry]) -> list[Finding]:
    """One finding per secret-looking file among ``entries``."""
    out: list[Finding] = []
    for entry in entries:
        found = _check(entry)
        if found is not None:
            out.append(found)
    return out


def _check(entry: BundleEntry) -> Finding | None:
    name = entry.relpath.rsplit("/", 1)[-1]
    lower = name.lower()
    if lower == ".env" or (lower.startswith(".env.") and lower not in _ENV_SHARED):
        return _secret(
            codes.SECRET_ENV_FILE,
            entry,
            "environment file (usually holds credentials) would be uploaded",
            line=_first_line(entry, _ENV_VALUE),  # the first variable given a value
            hint="commit a `.env.example` without values instead; " + codes.IGNORE_HINT,
        )
    if _SSH_KEY.match(name) and not lower.endswith(".pub"):
        return _secret(codes.SECRET_SSH_KEY, entry, "SSH private key would be uploaded")
    if lower.endswith((".pem", ".key")):
        line = _first_line(entry, _PRIVATE_KEY)
        if line is not None:
            return _secret(
                codes.SECRET_PRIVATE_KEY, entry, "PEM private key would be uploaded", line=line
            )
        return None
    if lower == "credentials.json":
        return _secret(
            codes.SECRET_CREDENTIALS_JSON,
            entry,
            "credentials.json (a service-account or OAuth secret) would be uploaded",
        )
    if lower in (".netrc", "_netrc"):
        return _secret(codes.SECRET_NETRC, entry, f"{name} (login passwords) would be uploaded")
    if lower == ".npmrc":
        return _rc_file(entry, _NPMRC_SECRET, "an npm auth token or password")
    if lower == ".pypirc":
        return _rc_file(entry, _PYPIRC_SECRET, "a PyPI password or token")
    if entry.relpath == ".docker/config.json" or entry.relpath.endswith("/.docker/config.json"):
        return _docker_config(entry)
    return None


def _rc_file(entry: BundleEntry, pattern: re.Pattern[str], what: str) -> Finding | None:
    text = _read_text(entry)
    if text is None:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return _secret(
                codes.SECRET_REGISTRY_RC,
                entry,
                f"{entry.relpath.rsplit('/', 1)[-1]} holds {what}",
                line=number,
            )
    return None


def _docker_config(entry: BundleEntry) -> Finding | None:
    text = _read_text(entry)
    if text is None:
        return None
    try:
        import json  # rarely needed: only for a docker config.json in the bundle

        data = json.loads(text)
    except ValueError:
        return None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return None
    secret_keys = ("auth", "identitytoken", "password", "registrytoken")
    if not any(isinstance(v, dict) and any(v.get(k) for k in secret_keys) for v in auths.values()):
        return None
    line = next((n for n, row in enumerate(text.splitlines(), start=1) if '"auths"' in row), None)
    return _secret(
        codes.SECRET_DOCKER_CONFIG,
        entry,
        "Docker config.json with registry credentials (`auths`) would be uploaded",
        line=line,
    )


def _first_line(entry: BundleEntry, pattern: re.Pattern[bytes]) -> int | None:
    data = _read_bytes(entry)
    if data is None:
        return None
    match = pattern.search(data)
    if match is None:
        return None
    return data.count(b"\n", 0, match.start()) + 1


def _read_bytes(entry: BundleEntry) -> bytes | None:
    try:
        with Path(entry.path).open("rb") as fh:
            return fh.read(_READ_LIMIT)
    except OSError:
        return None  # collect_files reports unreadable files


def _read_text(entry: BundleEntry) -> str | None:
    data = _read_bytes(entry)
    return None if data is None else data.decode("utf-8", errors="replace")


def _secret(
    code: str, entry: BundleEntry, message: str, *, line: int | None = None, hint: str = _HINT
) -> Finding:
    return codes.finding(code, Severity.ERROR, message, file=entry.relpath, line=line, hint=hint)
