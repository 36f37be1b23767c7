"""Finding codes of the bundle checks: HUB6xx bundle safety, HUB8xx secret-looking files.

docs/bundle.md lists them all; the codes are stable, the messages may improve.
"""

from __future__ import annotations

from typing import Final

from hubci.findings import Category, Finding, Severity

# bundle safety: links and file selection
LINK_OUTSIDE: Final = "HUB601"
LINK_DANGLING: Final = "HUB602"
LINK_LOOP: Final = "HUB603"
LINK_TO_IGNORED: Final = "HUB604"
UNREADABLE: Final = "HUB605"
SPECIAL_FILE: Final = "HUB606"
BAD_NAME: Final = "HUB607"
BAD_IGNORE_PATTERN: Final = "HUB608"
VIRTUALENV_SKIPPED: Final = "HUB609"
# bundle safety: limits and metadata
TOO_BIG: Final = "HUB610"
TOO_MANY_FILES: Final = "HUB611"
MTIME_BEFORE_1980: Final = "HUB612"
# secret-looking files that would be uploaded
SECRET_ENV_FILE: Final = "HUB801"
SECRET_PRIVATE_KEY: Final = "HUB802"
SECRET_SSH_KEY: Final = "HUB803"
SECRET_REGISTRY_RC: Final = "HUB804"
SECRET_CREDENTIALS_JSON: Final = "HUB805"
SECRET_NETRC: Final = "HUB806"
SECRET_DOCKER_CONFIG: Final = "HUB807"

IGNORE_HINT: Final = "add it to .gitignore or .dockerignore so it stays out of the bundle"


def finding(
    code: str,
    severity: Severity,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    hint: str | None = None,
) -> Finding:
    """A bundle finding; the category follows from the code range."""
    category: Category = "secret" if code.startswith("HUB8") else "bundle-safety"
    return Finding(
        code=code,
        category=category,
        severity=severity,
        message=message,
        file=file,
        line=line,
        hint=hint,
    )
