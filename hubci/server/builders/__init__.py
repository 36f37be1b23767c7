"""The builder seam: how the local Hub turns a normalized folder into an image per platform.

``check`` (built in) does everything but run Docker; ``docker`` (``hubci/server/builders/
docker.py``, class ``DockerBuilder``) builds real images through the Docker Engine API.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hubci.errors import ConfigError
from hubci.secret import Secret

BUILDERS = ("check", "docker")


@dataclass(frozen=True)
class BuildJob:
    """One image build for one platform."""

    folder: Path  # the extracted and normalized bundle
    dockerfile: str  # relative to ``folder``, POSIX
    platform: str  # e.g. "linux/amd64"
    build_env: Mapping[str, Secret]  # build args; values never logged or echoed
    no_cache: bool
    image: str  # repository, e.g. "jinahub/w7qckiqy"
    tags: tuple[str, ...]  # e.g. ("v1", "latest")
    #: set when the Hub stops: the builder should give up soon and return ok=False
    cancel: threading.Event = field(default_factory=threading.Event)
    #: fault injection (``fail-build:PLATFORM``): fail with a docker-like error
    inject_failure: bool = False


@dataclass(frozen=True)
class BuildOutcome:
    ok: bool
    image_id: str | None  # "sha256:<64 hex>" when ok
    error: str | None  # one line, docker-like, when not ok


@dataclass(frozen=True)
class ReuseJob:
    """Give an earlier build's images (one per platform) the tags of a new push."""

    image: str  # repository, e.g. "jinahub/w7qckiqy"
    tags: tuple[str, ...]
    image_ids: Mapping[str, str]  # platform -> the image id the earlier build made


@dataclass(frozen=True)
class PushJob:
    """Push one platform's image to a registry, as ``reference`` (``HOST/REPO:TAG``)."""

    image_id: str
    reference: str
    username: str
    password: Secret  # the Hub's own registry password (hubci.server.registry_tokens)
    #: set when the Hub stops: the push should give up soon and fail
    cancel: threading.Event = field(default_factory=threading.Event)
    #: the push fails once it has run this long (checked at each event from the Engine, whose
    #: client also ends any single read that waits longer than its timeout)
    seconds: float = 1800.0


class Builder(Protocol):
    #: whether a build reads the files' content (False: names and sizes only, so the Hub may
    #: unpack large files as sparse placeholders)
    reads_content: bool

    def build(self, job: BuildJob, log: Callable[[str], None]) -> BuildOutcome:
        """Build ``job``; send each console line to ``log`` (no trailing newline)."""
        ...

    def reuse(self, job: ReuseJob, log: Callable[[str], None]) -> bool:
        """Tag the images of ``job``; False when one is gone (the Hub then builds again)."""
        ...

    def push(self, job: PushJob, log: Callable[[str], None]) -> str | None:
        """Push ``job``'s image to its registry; None when done, else a one-line error."""
        ...


def get_builder(name: str, **options: Any) -> Builder:
    """The builder called ``name``; ConfigError when it is unknown or unavailable."""
    if name == "check":
        from hubci.server.builders.check import CheckBuilder

        return CheckBuilder(**options)
    if name == "docker":
        try:
            module = importlib.import_module("hubci.server.builders.docker")
        except ImportError as exc:
            msg = f"the docker builder is not available: {exc}"
            raise ConfigError(msg, hint="use --builder check") from exc
        builder: Builder = module.DockerBuilder(**options)
        return builder
    msg = f"unknown builder {name!r}"
    raise ConfigError(msg, hint=f"use one of: {', '.join(BUILDERS)}")
