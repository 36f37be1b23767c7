"""Version grammars for the ``semver`` and ``pep440`` rules.

semver follows node-semver's *strict* ``valid()`` (what metadata-action checks): an optional
single lower-case ``v``, ``MAJOR.MINOR.PATCH`` without leading zeros, an optional ``-prerelease``
(numeric identifiers without leading zeros) and ``+build``; surrounding spaces allowed; at most
256 characters; numbers up to JavaScript's ``MAX_SAFE_INTEGER``.

pep440 uses :mod:`packaging`, whose normal form is the one metadata-action's ``pep440.clean``
gives (``1.1beta2`` → ``1.1b2``, ``1.2.3-1`` → ``1.2.3.post1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

__all__ = ["Pep440Version", "SemVer", "parse_pep440", "parse_semver"]

_MAX_LENGTH = 256
_MAX_SAFE_INTEGER = 2**53 - 1
_NUM = r"0|[1-9]\d*"
_PRE_ID = rf"(?:{_NUM}|\d*[a-zA-Z-][a-zA-Z0-9-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"^v?({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?$",
    re.ASCII,
)


@dataclass(frozen=True)
class SemVer:
    raw: str
    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...]
    build: tuple[str, ...]

    @property
    def version(self) -> str:
        """``M.m.p`` plus ``-prerelease``; the build part is dropped (node-semver ``format()``)."""
        core = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            return core + "-" + ".".join(str(p) for p in self.prerelease)
        return core

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def fields(self) -> dict[str, object]:
        """What a ``pattern`` can use (node-semver's SemVer object properties)."""
        return {
            "raw": self.raw,
            "version": self.version,
            "major": self.major,
            "minor": self.minor,
            "patch": self.patch,
            "prerelease": list(self.prerelease),
            "build": list(self.build),
        }


def parse_semver(text: str) -> SemVer | None:
    """The strictly valid semver ``text`` or None."""
    if len(text) > _MAX_LENGTH:
        return None
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    if max(major, minor, patch) > _MAX_SAFE_INTEGER:
        return None
    prerelease: list[str | int] = []
    for part in match.group(4).split(".") if match.group(4) else ():
        if part.isdigit():
            number = int(part)
            if number > _MAX_SAFE_INTEGER:
                prerelease.append(part)
            else:
                prerelease.append(number)
        else:
            prerelease.append(part)
    build = tuple(match.group(5).split(".")) if match.group(5) else ()
    return SemVer(text, major, minor, patch, tuple(prerelease), build)


@dataclass(frozen=True)
class Pep440Version:
    raw: str
    parsed: Version

    @property
    def version(self) -> str:
        return str(self.parsed)

    @property
    def is_pre_post_or_dev(self) -> bool:
        return (
            self.parsed.pre is not None or self.parsed.is_postrelease or self.parsed.is_devrelease
        )

    def component(self, index: int) -> int:
        release = self.parsed.release
        return release[index] if index < len(release) else 0

    def fields(self) -> dict[str, object]:
        return {
            "raw": self.raw,
            "version": self.version,
            "major": self.component(0),
            "minor": self.component(1),
            "patch": self.component(2),
        }


def parse_pep440(text: str) -> Pep440Version | None:
    """The PEP 440 version ``text`` (leading ``v`` allowed) or None."""
    try:
        return Pep440Version(text, Version(text))
    except InvalidVersion:
        return None
