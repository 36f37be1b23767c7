"""Checking the fields of ``executor.push``/``executor.update`` (docs/protocol.md#upload-checks).

Every problem becomes a :class:`Rejection` (HTTP code, Hubble status, readable message) before
any build starts. Messages name the bad field and the fix; build-env values are never quoted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from hubci import rules

_BOOL = {"true": True, "false": False}


class Rejection(Exception):
    """An HTTP error answer: ``code`` (HTTP), ``status`` (Hubble), a readable message."""

    def __init__(self, code: int, status: int, readable: str, *, message: str | None = None):
        super().__init__(readable)
        self.code = code
        self.status = status
        self.readable = readable
        self.message = message or readable

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "readableMessage": self.readable,
        }


def bad(readable: str) -> Rejection:
    return Rejection(400, 40001, readable, message="bad request")


def parse_bool(fields: Mapping[str, Any], name: str) -> bool:
    """``True``/``False`` in any case (absent or empty: False); JSON booleans pass as they are."""
    raw = fields.get(name)
    if isinstance(raw, bool):
        return raw
    if raw is None or raw == "":
        return False
    value = _BOOL.get(str(raw).strip().lower())
    if value is None:
        msg = f"Invalid value for {name}: expected True or False"
        raise bad(msg)
    return value


def parse_tags(raw: str | None, field: str) -> list[str]:
    out: list[str] = []
    for item in (raw or "").split(","):
        tag = item.strip()
        if not tag:
            continue
        if not rules.TAG.fullmatch(tag):
            msg = (
                f"Invalid tag {tag!r} in {field}: use letters, digits, '_', '.' and '-' "
                "(at most 64, not starting with '.' or '-')"
            )
            raise bad(msg)
        if tag not in out:
            out.append(tag)
    return out


def parse_platforms(raw: str | None, architecture: str | None) -> list[str]:
    if raw is None or not raw.strip():
        return [rules.default_platform(architecture)]
    try:
        platforms = rules.parse_platforms(raw)
    except ValueError as exc:
        msg = f"Invalid platform: {exc}"
        raise bad(msg) from exc
    if not platforms:
        msg = "Invalid platform: the list is empty; use e.g. linux/amd64,linux/arm64"
        raise bad(msg)
    return platforms


def parse_build_env(raw: str | None) -> dict[str, str]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        msg = 'Invalid buildEnv: expected a JSON object such as {"NAME": "value"}'
        raise bad(msg)
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not rules.BUILD_ENV_NAME.fullmatch(key):
            shown = key if isinstance(key, str) and len(key) <= 64 else "(a long name)"
            msg = (
                f"Invalid build env name {shown!r}: use upper-case letters, digits and '_', "
                "not starting with '_'"
            )
            raise bad(msg)
        if not isinstance(item, str):
            msg = f"Invalid value for build env {key}: it must be a string"
            raise bad(msg)
        out[key] = item
    return out


def parse_dockerfile(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    path = PurePosixPath(text)
    if (
        len(text) > 255
        or "\x00" in text
        or "\\" in text
        or path.is_absolute()
        or ".." in path.parts
        or text.endswith("/")
    ):
        msg = (
            f"Invalid dockerfile {text[:80]!r}: give a file path relative to the bundle root, "
            "e.g. Dockerfile.gpu"
        )
        raise bad(msg)
    return path.as_posix()


def check_name(name: str) -> str:
    if not rules.EXECUTOR_NAME.fullmatch(name):
        msg = (
            f"Invalid executor name {name[:80]!r}: use letters, digits, '_' and '-', starting "
            "with a letter or digit, at most 128 (set metas.name in config.yml)"
        )
        raise bad(msg)
    return name


@dataclass(frozen=True)
class PushFields:
    ident: str
    secret: str | None
    public: bool
    private: bool
    verbose: bool
    no_cache: bool
    tags: list[str]
    protected: list[str]
    platforms: list[str]
    build_env: dict[str, str]
    dockerfile: str | None
    md5sum: str


def parse_push(fields: Mapping[str, str], *, update: bool, architecture: str | None) -> PushFields:
    """Check every field except the file (its md5 is checked by the caller)."""
    ident = (fields.get("id") or "").strip()
    if not ident:
        msg = "Missing id: set metas.name in config.yml (the executor name)"
        raise bad(msg)
    secret = fields.get("secret")
    if update and not secret:
        msg = "Missing secret: executor.update needs the executor's secret"
        raise bad(msg)
    public = parse_bool(fields, "public")
    private = parse_bool(fields, "private")
    if public and private:
        msg = "public and private cannot both be True"
        raise bad(msg)
    md5sum = (fields.get("md5sum") or "").strip().lower()
    if not md5sum:
        msg = "Missing md5sum: send the MD5 of the uploaded zip"
        raise bad(msg)
    tags = parse_tags(fields.get("tags"), "tags")
    protected = parse_tags(fields.get("immutableTags"), "immutableTags")
    if not tags and not protected:
        tags = ["latest"]
    return PushFields(
        ident=ident if update else check_name(ident),
        secret=secret if update else None,
        public=public,
        private=private,
        verbose=parse_bool(fields, "verbose"),
        no_cache=parse_bool(fields, "buildWithNoCache"),
        tags=tags,
        protected=protected,
        platforms=parse_platforms(fields.get("platform"), architecture),
        build_env=parse_build_env(fields.get("buildEnv")),
        dockerfile=parse_dockerfile(fields.get("dockerfile")),
        md5sum=md5sum,
    )
