"""Never build the same thing twice: does the Hub already have this push's build?

Before uploading, ``hubci push`` asks the Hub (``executor.getPackage``, once per requested tag)
which build each tag points at. The push is skipped, with the result ``unchanged``, when every
tag already points at a build made from a bundle of the same MD5 (the bundle is deterministic:
same files, same MD5) with the same build parameters: the platforms, the Dockerfile and the
build-env names.

Build-env *values* cannot be compared: a Hub keeps their names only. A push with build envs is
therefore skipped only with ``--skip-unchanged=always``. When the content is the same but a
tag is new, the push goes ahead: a Hub has no call that adds a tag to an existing build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hubci.hub.records import Package
from hubci.rules import SkipUnchanged


@dataclass(frozen=True)
class Wanted:
    """What this push would build."""

    md5: str
    tags: tuple[str, ...]
    platforms: tuple[str, ...]
    dockerfile: str | None  # None: the default `Dockerfile`
    build_env: tuple[str, ...]  # names
    visibility: str | None  # None: keep the executor's
    #: the account pushing (whoami); a build of anyone else's executor is never "ours"
    owner: str | None = None
    #: the executor the push names by id (--force-update); None: by name
    executor_id: str | None = None
    #: no Dockerfile in the bundle: the Hub generates one for the client's Python and jina
    generated_dockerfile: bool = False
    python: str | None = None
    jina: str | None = None


@dataclass(frozen=True)
class Verdict:
    """Whether to skip the upload, and one line saying why."""

    skip: bool
    reason: str
    #: the build the tags point at (when skipping: the one the result reports)
    existing: Package | None = None


def decide(wanted: Wanted, found: Mapping[str, Package | None], mode: SkipUnchanged) -> Verdict:
    """Compare what the Hub answered for each tag (None: no such tag) with ``wanted``."""
    if mode == "never":
        return Verdict(False, "pushing: --force-build (the Hub is not asked what it has)")
    missing = [tag for tag in wanted.tags if found.get(tag) is None]
    present = [(tag, pkg) for tag in wanted.tags if (pkg := found.get(tag)) is not None]
    differences = [f"{tag}: {why}" for tag, pkg in present if (why := _difference(wanted, pkg))]
    if differences:
        return Verdict(False, f"pushing: changed since the last build ({differences[0]})")
    if missing and present:
        new = ", ".join(missing)
        return Verdict(
            False,
            f"pushing: the content is unchanged, but tag(s) {new} are new and a Hub cannot add "
            "a tag to an existing build",
            present[0][1],
        )
    if missing:
        return Verdict(False, "pushing: the Hub has no build under these tags yet")
    existing = present[0][1]
    if wanted.build_env and mode != "always":
        return Verdict(
            False,
            "pushing: the content is unchanged, but build-env values cannot be compared (a Hub "
            "keeps their names only); --skip-unchanged=always skips such a push",
            existing,
        )
    build = f"build {_short(existing.build_id)}" if existing.build_id else "a build"
    return Verdict(
        True,
        f"unchanged: tag(s) {', '.join(wanted.tags)} already point at {build} of bundle md5 "
        f"{wanted.md5} with the same parameters; nothing uploaded (--force-build pushes anyway)",
        existing,
    )


def _difference(wanted: Wanted, pkg: Package) -> str | None:
    """The first parameter in which the build differs from ``wanted``, or that the Hub does
    not tell (None: none; what is unknown never counts as the same). Values from the Hub are
    shortened: they are shown in the push's log."""
    doc = pkg.executor
    if wanted.owner is None or doc.owner != wanted.owner:
        return f"the Hub answered with {_short(doc.owner or '?')}'s executor, not yours"
    if wanted.executor_id is not None and wanted.executor_id not in (doc.id, doc.name):
        return f"the Hub answered with executor {_short(doc.id or '?')}"
    if pkg.md5 is None:
        return "the Hub does not say which bundle the build was made from"
    if pkg.md5 != wanted.md5:
        return f"bundle md5 {pkg.md5} there, {wanted.md5} now"
    platforms = pkg.executor.platforms
    if platforms is None:
        return "the Hub does not say which platforms the build has"
    if set(platforms) != set(wanted.platforms):
        return f"platforms {_list(platforms)} there, {_list(wanted.platforms)} now"
    if not pkg.dockerfile_known:
        return "the Hub does not say which Dockerfile the build used"
    there, now = _dockerfile(pkg.dockerfile), _dockerfile(wanted.dockerfile)
    if there != now:
        return f"Dockerfile {_short(there)} there, {now} now"
    if wanted.generated_dockerfile:
        if not pkg.versions_known:
            return "the Hub does not say which Python its generated Dockerfile was made for"
        if (pkg.python, pkg.jina) != (wanted.python, wanted.jina):
            return (
                f"the generated Dockerfile was made for Python {_short(pkg.python or '?')}, "
                f"now {wanted.python or '?'}"
            )
    if pkg.build_env is None:
        return "the Hub does not say which build envs the build had"
    if set(pkg.build_env) != set(wanted.build_env):
        return f"build envs {_list(pkg.build_env)} there, {_list(wanted.build_env)} now"
    if wanted.visibility is not None and pkg.executor.visibility != wanted.visibility:
        return f"visibility {_short(pkg.executor.visibility or '?')} there, {wanted.visibility} now"
    return None


def _dockerfile(value: str | None) -> str:
    return value or "Dockerfile"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _list(values: Iterable[str]) -> str:
    return _short(",".join(sorted(values)) or "none", 120)
