"""Dockerfile checks: the file the Hub will build exists, lies in the folder, parses, has FROM."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from hubci.findings import Finding
from hubci.findings.codes import finding

if TYPE_CHECKING:
    from hubci.dockerfile import Instruction

DEFAULT_DOCKERFILE = "Dockerfile"
_GENERATED = "jinaai/jina base image, pip install -r requirements.txt"


def resolve_dockerfile(folder: Path, given: str) -> tuple[str | None, Finding | None]:
    """``--dockerfile`` -> its path relative to ``folder`` (POSIX), or a finding.

    A relative path is taken relative to the executor folder; when no such file exists there,
    relative to the current directory (``--dockerfile my-exec/Dockerfile.gpu``).
    """
    try:
        raw = Path(given).expanduser()
    except RuntimeError:  # ~user with no such user
        raw = Path(given)
    candidates = [raw] if raw.is_absolute() else [folder / raw, Path.cwd() / raw]
    target = next((c for c in candidates if c.exists()), None)
    if target is None:
        return None, finding("HUB501", f"--dockerfile {given!r} does not exist")
    root = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(target))
    if real != root and root not in real.parents:
        return None, finding(
            "HUB502", f"--dockerfile {given!r} is not inside the executor folder {folder}"
        )
    if not real.is_file():
        return None, finding("HUB501", f"--dockerfile {given!r} is not a file")
    # keep the name as written inside the folder (a link inside the folder stays a link)
    lexical = Path(os.path.normpath(target.absolute()))
    base = Path(os.path.normpath(folder.absolute()))
    rel = lexical.relative_to(base) if base in lexical.parents else real.relative_to(root)
    return rel.as_posix(), None


def check_dockerfile(
    folder: Path, dockerfile: str | None, bundled: Collection[str] | None = None
) -> list[Finding]:
    """Findings for the Dockerfile a push would build. ``bundled``: relpaths in the bundle."""
    if dockerfile is not None:
        rel, problem = resolve_dockerfile(folder, dockerfile)
        if problem is not None or rel is None:
            return [problem] if problem is not None else []
    else:
        rel = DEFAULT_DOCKERFILE
        if not (folder / rel).is_file():
            return [finding("HUB505", f"no Dockerfile: the Hub generates one ({_GENERATED})")]
        if bundled is not None and rel not in bundled:
            # not named with --dockerfile: a push leaves it out and the Hub generates one
            # (repositories that ignore a local Dockerfile on purpose must not fail)
            return [
                finding(
                    "HUB508",
                    f"{rel} is excluded from the bundle by the ignore rules: the Hub does not "
                    f"see it and generates one ({_GENERATED})",
                    file=rel,
                )
            ]
    out: list[Finding] = []
    if bundled is not None and rel not in bundled:
        out.append(
            finding(
                "HUB506",
                f"{rel} is excluded from the bundle by the ignore rules, so the Hub cannot "
                "build it",
                file=rel,
            )
        )
    try:
        text = (folder / rel).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [*out, finding("HUB507", f"{rel} is not UTF-8 text", file=rel)]
    except OSError as exc:
        return [*out, finding("HUB507", f"{rel} cannot be read: {exc.strerror}", file=rel)]
    from hubci.dockerfile import DockerfileSyntaxError, parse_dockerfile  # only with a file

    try:
        instructions = parse_dockerfile(text)
    except DockerfileSyntaxError as exc:
        return [*out, finding("HUB504", f"{rel}: {exc.reason}", file=rel, line=exc.line)]
    out += _sources_and_secrets(rel, instructions)
    first = next((i for i in instructions if i.keyword != "ARG"), None)
    if first is None:
        out.append(finding("HUB503", f"{rel} has no FROM instruction", file=rel))
    elif first.keyword != "FROM":
        out.append(
            finding(
                "HUB503",
                f"{rel} must start with FROM (only ARG may come before it), not {first.keyword}",
                file=rel,
                line=first.line,
            )
        )
    return out


#: Words of a key that name a credential (``HUB_TOKEN``, ``db.password``), and pairs of words
#: that do (``API_KEY``, ``aws-secret-access-key``); ``org.opencontainers.image.authors`` does not.
_CREDENTIAL_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "credential", "credentials", "apikey"}
)
_CREDENTIAL_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key")})
_WORD = re.compile(r"[a-z0-9]+")


def _credential_key(key: str) -> bool:
    words = _WORD.findall(key.lower())
    if any(w in _CREDENTIAL_WORDS or w.endswith("token") for w in words):
        return True
    return any(pair in _CREDENTIAL_PAIRS for pair in itertools.pairwise(words))


def _sources_and_secrets(rel: str, instructions: list[Instruction]) -> list[Finding]:
    """COPY/ADD sources outside the build context (HUB509) and credentials written into the
    image (HUB510: a credential-named key with a literal value, or a value shaped like a token),
    each at its line; the value itself is never quoted."""
    from hubci.dockerfile import baked_values, copy_sources, outside_context
    from hubci.validate.requirements import TOKEN

    out: list[Finding] = []
    for ins in instructions:
        if ins.keyword in ("COPY", "ADD"):
            for source in copy_sources(ins):
                if outside_context(source):
                    out.append(
                        finding(
                            "HUB509",
                            f"{ins.keyword} {source!r} reads outside the build context (the "
                            "executor folder): the build fails",
                            file=rel,
                            line=ins.line,
                        )
                    )
    for baked in baked_values(instructions):
        named = _credential_key(baked.key)
        if named or TOKEN.search(baked.value):
            why = "a literal credential" if named else "a value shaped like an access token"
            out.append(
                finding(
                    "HUB510",
                    f"{baked.instruction.keyword} {baked.key} writes {why} into the image, "
                    "where anyone who pulls it can read it",
                    file=rel,
                    line=baked.instruction.line,
                )
            )
    return out
