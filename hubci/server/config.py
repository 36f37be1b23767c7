"""The local Hub's settings, resolved once, and its default data folder."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hubci import rules
from hubci.errors import ConfigError
from hubci.image.registry import RegistryTarget
from hubci.secret import Secret

#: Names a Hub account may have (they are namespaces: ``jinaai://NAME/Executor``).
USER_NAME_HELP = "letters, digits, '_' and '-', starting with a letter or digit, at most 64"


def default_data_dir() -> Path:
    """The per-user data folder, e.g. ``~/.local/share/hubci/hub`` on Linux."""
    import platformdirs

    return Path(platformdirs.user_data_dir("hubci", appauthor=False)) / "hub"


#: ``hub serve`` without ``--user``: the token of the account ``local`` (mode 0600).
LOCAL_TOKEN_FILE = "local-token"
#: What a Hub keeps in its data folder; a folder holding anything else is not one.
DATA_DIR_ENTRIES = frozenset(
    {"hub.db", "hub.db-wal", "hub.db-shm", "hub.db-journal", "hub.lock", "bundles", "work"}
    | {LOCAL_TOKEN_FILE, "download-signing.key", "packages"}
    | {"registry-token.key", "registry-token.crt", "registry-token.crt.tmp"}
)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only its owner can read (mode 0600, never an existing
    file: O_EXCL)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)


def _foreign_entry(path: Path) -> str | None:
    """A name in ``path`` that a Hub did not put there (None: new, empty or a Hub's folder).

    Before its database exists, a Hub's folder holds at most a lock file and empty sub-folders.
    """
    try:
        names = sorted(entry.name for entry in path.iterdir())
    except FileNotFoundError:
        return None
    foreign = next((name for name in names if name not in DATA_DIR_ENTRIES), None)
    if foreign is not None or "hub.db" in names:
        return foreign
    for sub in ("bundles", "work"):
        inside = path / sub
        if inside.is_symlink() or (inside.exists() and not inside.is_dir()):
            return sub
        if inside.is_dir():
            child = next(inside.iterdir(), None)
            if child is not None:
                return f"{sub}/{child.name}"
    return None


def prepare_data_dir(path: Path) -> Path:
    """Create the data folder (private: 0o700) and its sub-folders; return it resolved.

    An existing folder is used only when it is empty or a Hub's own: the Hub makes it private
    and empties ``work/`` on start, which must never happen to a folder such as ``~`` or /tmp.
    """
    path = path.expanduser()
    try:
        foreign = _foreign_entry(path) if path.is_dir() else None
        if foreign is not None:
            msg = f"{path} is not a Hub data folder (it holds {foreign!r})"
            raise ConfigError(msg, hint="pass --data-dir with a new or empty folder")
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing folder.
        path.chmod(0o700)
        for sub in ("bundles", "work"):
            (path / sub).mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        msg = f"cannot use {path} as the Hub data folder: {exc.strerror or exc}"
        raise ConfigError(msg, hint="pass --data-dir with a writable folder") from exc
    return path.resolve()


def parse_user(spec: str) -> tuple[str, Secret]:
    """Parse ``--user NAME=TOKEN``; raise ConfigError naming the fix."""
    name, sep, token = spec.partition("=")
    name = name.strip()
    if not sep or not name or not token:
        msg = "--user expects NAME=TOKEN"
        raise ConfigError(msg, hint="e.g. --user alice=$(openssl rand -hex 16)")
    if not rules.HUB_USER_NAME.fullmatch(name):
        msg = f"--user: invalid user name {name!r}"
        raise ConfigError(msg, hint=f"use {USER_NAME_HELP}")
    if len(token) < 8 or any(ch.isspace() for ch in token):
        msg = f"--user {name}: the token must be at least 8 characters without spaces"
        raise ConfigError(msg, hint="generate one with `openssl rand -hex 16`")
    return name, Secret(token)


def check_accounts(accounts: Iterable[tuple[str, Secret]]) -> dict[str, Secret]:
    """The accounts by name; ConfigError for a name given twice or a token two accounts share
    (a login with it would be ambiguous)."""
    out: dict[str, Secret] = {}
    for name, token in accounts:
        if name in out:
            msg = f"--user {name} is given twice"
            raise ConfigError(msg, hint="give each account once")
        shared = [other for other, known in out.items() if known.reveal() == token.reveal()]
        if shared:
            msg = f"--user {name} has the same token as --user {shared[0]}"
            raise ConfigError(msg, hint="give every account its own token")
        out[name] = token
    return out


@dataclass(frozen=True)
class HubConfig:
    """Everything the app needs; built by ``hub serve`` or ``embedded_hub``."""

    data_dir: Path
    users: Mapping[str, Secret]
    builder: str = "check"
    faults: Sequence[str] = ()
    #: How long the check builder takes per platform (seconds).
    build_seconds: float = rules.HUB_DEFAULT_BUILD_SECONDS
    workers: int = 2
    max_upload_bytes: int = rules.HUB_MAX_UPLOAD_BYTES
    max_extract_bytes: int = rules.HUB_MAX_EXTRACT_BYTES
    max_extract_entries: int = rules.HUB_MAX_EXTRACT_ENTRIES
    max_compression_ratio: float = rules.HUB_MAX_COMPRESSION_RATIO
    builder_options: Mapping[str, object] = field(default_factory=dict)
    #: where built images are pushed (``hub serve --registry``); None: they stay in the Engine
    registry: RegistryTarget | None = None
