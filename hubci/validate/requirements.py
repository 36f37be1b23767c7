"""``requirements.txt`` checks: every line is something pip accepts, and holds no secret.

Line handling follows pip's requirements-file parser: ``\\`` continuation lines are joined,
``#`` starts a comment at the line start or after whitespace (so ``#egg=`` and ``#sha256=`` in
URLs are not comments), a line starting with ``-`` is an option line, and per-requirement
options (``--hash=…``) start at the first token beginning with ``-``. ``${NAME}`` build-env
references are replaced by a placeholder before a requirement is parsed.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import NamedTuple

from hubci.findings import Finding
from hubci.findings.codes import finding
from hubci.validate.envvars import EnvRef, find_env_refs

REQUIREMENTS_FILE = "requirements.txt"

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VALID_REF = re.compile(r"\$\{[A-Z0-9][A-Z0-9_]*\}")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")
_NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
# A conservative subset of PEP 508/440 (`name[extra]>=1.0,<2`, `==1.2.*`, `==2.1+cpu`, `~=1.4`):
# lines it matches are valid without importing packaging (~10 ms of start-up the pre-commit
# hook saves); every other line goes to packaging's parser.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"\d+(?:\.\d+)*"
_PRE = r"(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
_EQ = rf"(?:==|!=)\s*{_RELEASE}(?:\.\*|{_PRE}(?:\+[a-z0-9]+(?:\.[a-z0-9]+)*)?)"
_CMP = rf"(?:>=|<=|>|<)\s*{_RELEASE}{_PRE}"
_COMPAT = rf"~=\s*\d+(?:\.\d+)+{_PRE}"
_SPEC = rf"(?:{_EQ}|{_CMP}|{_COMPAT})"
# Name and extras, then each comma-separated specifier on its own: one copy of the specifier
# pattern compiles in half the time of a single regex that repeats it (start-up again).
_NAME_EXTRAS = re.compile(rf"{_NAME}(?:\s*\[\s*(?:{_NAME}(?:\s*,\s*{_NAME})*)?\s*\])?\s*")
_ONE_SPEC = re.compile(rf"\s*{_SPEC}\s*")


def is_simple_requirement(line: str) -> bool:
    """Whether ``line`` is ``name[extras] spec, spec`` of the common shapes (valid PEP 508)."""
    head = _NAME_EXTRAS.match(line)
    if head is None:
        return False
    rest = line[head.end() :]
    return not rest.strip() or all(_ONE_SPEC.fullmatch(part) for part in rest.split(","))


_VCS = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
#: Tokens with a recognisable prefix: GitHub (classic, OAuth, app, refresh, fine-grained), GitLab.
TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_-]{20,}|gl(?:dt|rt|cbt|ptt|ft|imt|agent|oas)-[A-Za-z0-9_-]{20,})"
)

#: Options pip accepts on their own line in a requirements file, and whether they take a value.
LINE_OPTIONS: dict[str, bool] = {
    "-r": True,
    "--requirement": True,
    "-c": True,
    "--constraint": True,
    "-e": True,
    "--editable": True,
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "-f": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
}
#: Options pip accepts after a requirement on the same line.
REQUIREMENT_OPTIONS: dict[str, bool] = {
    "--hash": True,
    "--config-settings": True,
    "-C": True,
    "--global-option": True,
}
_FILE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint"})


class _Line(NamedTuple):
    """A logical requirements line (continuations joined)."""

    text: str  # the logical line, comment removed
    line: int  # 1-based number of its first physical line
    single: bool  # one physical line, so columns are exact


def logical_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if raw.endswith("\\") and not _COMMENT.match(raw):
            parts.append(raw[:-1])
            continue
        parts.append(raw)
        out.append(_Line(_COMMENT.sub("", "".join(parts)), start, len(parts) == 1))
        parts = []
    if parts:
        out.append(_Line(_COMMENT.sub("", "".join(parts)), start, len(parts) == 1))
    return out


def _placeholders(text: str) -> str:
    return _VALID_REF.sub("1", text)


def _only_refs(text: str) -> bool:
    return bool(text) and not _VALID_REF.sub("", text)


def secret_findings(text: str, relname: str = REQUIREMENTS_FILE) -> list[Finding]:
    """Tokens and URL credentials, located by line and column; the secret is never shown."""
    out: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = list(TOKEN.finditer(raw))
        for match in tokens:
            out.append(
                finding(
                    "HUB702",
                    "an access token (GitHub/GitLab prefix) is written in the file",
                    file=relname,
                    line=number,
                    col=match.start() + 1,
                )
            )
        for match in _URL.finditer(raw):
            # the authority of scheme://user:password@host/path (a later "@rev" is in the path)
            authority = re.split(r"[/?#]", match.group(0).partition("://")[2], maxsplit=1)[0]
            if "@" not in authority:
                continue
            userinfo = authority.rpartition("@")[0]
            user, has_password, password = userinfo.partition(":")
            if any(t.start() >= match.start() and t.end() <= match.end() for t in tokens):
                continue  # already reported as a token
            col = raw.index(userinfo, match.start()) + 1
            if has_password and password and not _only_refs(password):
                message = "a URL carries a password (`user:password@`)"
            elif not has_password and len(user) >= 20 and not _only_refs(user):
                message = "a URL carries a token as its user name (`token@`)"
            else:
                continue
            out.append(finding("HUB701", message, file=relname, line=number, col=col))
    return out


def _split_option(text: str) -> tuple[str, str | None]:
    """``--opt=value`` / ``--opt value`` / ``-rfile`` / ``-r file`` -> (option, value)."""
    head, _, rest = text.partition(" ")
    if head.startswith("--"):
        name, eq, value = head.partition("=")
        if eq:
            return name, (value + (" " + rest if rest else "")).strip() or None
        return name, rest.strip() or None
    if len(head) > 2:  # -rfile
        return head[:2], (head[2:] + (" " + rest if rest else "")).strip()
    return head, rest.strip() or None


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith(_VCS)


def _is_path(text: str) -> bool:
    bare = re.sub(r"\[[^\]]*\]$", "", text)
    return (
        bare.startswith((".", "/", "~"))
        or "/" in bare
        or "\\" in bare
        or bare.lower().endswith(_ARCHIVE)
    )


def _check_local(folder: Path, value: str, what: str, ln: _Line, relname: str) -> list[Finding]:
    if _is_url(value) or "${" in value:
        return []
    path = re.sub(r"\[[^\]]*\]$", "", value.strip().strip("'\""))
    if path.startswith("file:"):
        return []
    norm = posixpath.normpath(path.replace("\\", "/"))
    if posixpath.isabs(norm) or norm.startswith(("~", "../")) or norm == "..":
        message = f"{what} {path!r} is outside the executor folder, which is all the Hub gets"
        return [finding("HUB303", message, file=relname, line=ln.line)]
    try:
        exists = (folder / norm).exists()
    except (OSError, ValueError):  # a NUL byte or an over-long name
        exists = False
    if exists:
        return []
    return [finding("HUB303", f"{what} {path!r} does not exist", file=relname, line=ln.line)]


def _check_option_line(folder: Path, ln: _Line, relname: str) -> list[Finding]:
    name, value = _split_option(ln.text.strip())
    takes_value = LINE_OPTIONS.get(name)
    if takes_value is None:
        if name in REQUIREMENT_OPTIONS:
            message = f"option {name} must follow a requirement on the same line"
        else:
            message = f"pip does not accept the option {name} in a requirements file"
        return [finding("HUB302", message, file=relname, line=ln.line)]
    if takes_value and not value:
        return [finding("HUB305", f"option {name} needs a value", file=relname, line=ln.line)]
    if value and name in _FILE_OPTIONS:
        return _check_local(folder, value, "the included file", ln, relname)
    if value and name in {"-e", "--editable"} and not _is_url(value):
        return _check_local(folder, value, "the editable path", ln, relname)
    return []


def _check_requirement(folder: Path, ln: _Line, relname: str) -> list[Finding]:
    tokens = ln.text.strip().split(" ")
    cut = next((i for i, tok in enumerate(tokens) if tok.startswith("-")), len(tokens))
    spec = " ".join(tokens[:cut]).strip()
    out: list[Finding] = []
    for tok in tokens[cut:]:
        if not tok:
            continue
        name = tok.partition("=")[0]
        if tok.startswith("-") and name not in REQUIREMENT_OPTIONS:
            out.append(
                finding(
                    "HUB302",
                    f"pip does not accept the option {name} after a requirement",
                    file=relname,
                    line=ln.line,
                )
            )
    if not _NAME_AT.match(spec):  # `name @ url` goes to the PEP 508 parser below
        if _is_url(spec):
            return out  # a plain URL or VCS requirement
        if _is_path(spec):
            return out + _check_local(folder, spec, "the local package", ln, relname)
    candidate = _placeholders(spec)
    if is_simple_requirement(candidate):
        return out
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(candidate)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0].strip() or "invalid requirement"
        col = None
        lines = str(exc).splitlines()
        if ln.single and "${" not in spec and len(lines) >= 3 and "^" in lines[-1]:
            offset = ln.text.find(spec)
            caret = lines[-1].index("^") - (len(lines[-2]) - len(lines[-2].lstrip()))
            col = offset + caret + 1 if offset >= 0 and caret >= 0 else None
        out.append(
            finding(
                "HUB301",
                f"not a valid requirement: {reason}",
                file=relname,
                line=ln.line,
                col=col,
            )
        )
    return out


class RequirementsResult(NamedTuple):
    """requirements.txt findings and its build-env references."""

    findings: list[Finding]
    refs: list[EnvRef]  # every build-env reference, valid or not
    exists: bool


def check_requirements(folder: Path, relname: str = REQUIREMENTS_FILE) -> RequirementsResult:
    """Check ``folder/relname``; a missing file is fine (nothing to install)."""
    path = folder / relname
    if not path.is_file():
        return RequirementsResult([], [], exists=False)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"{relname} cannot be read: {exc.strerror}"
        return RequirementsResult([finding("HUB304", message, file=relname)], [], exists=True)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"{relname} is not UTF-8 text"
        return RequirementsResult(
            [finding("HUB304", message, file=relname, line=line)], [], exists=True
        )
    refs = find_env_refs(text)
    findings = secret_findings(text, relname)
    secret_lines = {f.line for f in findings}
    bad_ref_lines = {r.line for r in refs if not r.valid}
    for ln in logical_lines(text):
        stripped = ln.text.strip()
        if not stripped or ln.line in secret_lines:
            continue
        if stripped.startswith("-"):
            findings += _check_option_line(folder, ln, relname)
        elif ln.line not in bad_ref_lines:
            findings += _check_requirement(folder, ln, relname)
    return RequirementsResult(findings, refs, exists=True)
