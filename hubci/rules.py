"""Closed sets and name grammars shared by validate, push, the local Hub and the Action.

Each rule is defined here once; everything else imports it.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

Platform = Literal[
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
]
PLATFORMS: Final[frozenset[str]] = frozenset(get_args(Platform))

#: Build-env names: numbers, upper-case letters and ``_``, not starting with ``_``.
BUILD_ENV_NAME: Final = re.compile(r"^[A-Z0-9][A-Z0-9_]*$")
#: Executor names the local Hub accepts: its own choice, as the real Hub does not publish one
#: (docs/protocol.md#names-tags-and-platforms).
EXECUTOR_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
#: Hub tags: a docker tag fragment without ``,`` (the field separator), ``:`` or ``/`` (URI
#: separators); docs/protocol.md#names-tags-and-platforms.
TAG: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: Executor ids: UUID8.
EXECUTOR_ID: Final = re.compile(r"^[a-z0-9]{8}$")

DEFAULT_HUB_URL: Final = "https://api.hubble.jina.ai"
#: What push, status, tags and build print their result as (validate adds ``github``).
ResultFormat = Literal["text", "json"]
RESULT_FORMATS: Final[tuple[ResultFormat, ...]] = ("text", "json")
#: An executor's visibility on the Hub.
Visibility = Literal["public", "private"]
VISIBILITIES: Final[tuple[Visibility, ...]] = ("public", "private")
#: How long a push (upload and build) or a status may take, in seconds (0 = no limit): the
#: default of --timeout and of the Action's timeout input.
DEFAULT_TIMEOUT_SECONDS: Final = 3600.0
#: How many executors are pushed at the same time when several are given (push --jobs and the
#: Action's path input with several folders): pushes mostly wait on the Hub's builds.
DEFAULT_PARALLEL_PUSHES: Final = 4
HUB_WEB_URL: Final = "https://cloud.jina.ai/executor/{id}/"

#: Bundle limits (validate and push refuse above them; the local Hub has its own, larger ones).
DEFAULT_MAX_BUNDLE_BYTES: Final = 1024 * 1024 * 1024
DEFAULT_MAX_BUNDLE_FILES: Final = 10_000


def parse_platforms(value: str) -> list[str]:
    """Split a comma list of platforms; raise ValueError naming the first unknown one."""
    out: list[str] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        if item not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            msg = f"unknown platform {item!r}; use one of: {known}"
            raise ValueError(msg)
        if item not in out:
            out.append(item)
    return out


def default_platform(machine: str | None) -> Platform:
    """The platform a Hub builds when a push names none: the client's own architecture (its
    ``jinameta-architecture`` header, Python's ``platform.machine()``), ARM or else x86-64."""
    return "linux/arm64" if (machine or "").lower() in ("arm64", "aarch64") else "linux/amd64"


#: ``hubci push --skip-unchanged``: when a push whose build the Hub already has is skipped.
SkipUnchanged = Literal["auto", "always", "never"]
SKIP_UNCHANGED: Final[tuple[str, ...]] = get_args(SkipUnchanged)


#: The local Hub (hubci/server): account names, request and extraction limits.
HUB_USER_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HUB_MAX_UPLOAD_BYTES: Final = DEFAULT_MAX_BUNDLE_BYTES + 16 * 1024 * 1024
HUB_MAX_EXTRACT_BYTES: Final = 4 * DEFAULT_MAX_BUNDLE_BYTES
HUB_MAX_EXTRACT_ENTRIES: Final = 5 * DEFAULT_MAX_BUNDLE_FILES
HUB_MAX_COMPRESSION_RATIO: Final = 200.0
HUB_DEFAULT_BUILD_SECONDS: Final = 1.0
