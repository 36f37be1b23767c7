"""hubci's cache folder: small JSON files that only ever speed things up.

``$XDG_CACHE_HOME/hubci`` (``~/.cache/hubci``), private to the user. Reading tolerates anything
(a missing, unreadable, damaged or oversized file reads as nothing), and writing replaces a file
atomically or not at all: no caller's result ever depends on the cache being there or right.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: No cache file is read past this size (a larger one reads as nothing and is rewritten).
MAX_FILE_BYTES = 16 << 20


def cache_path(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hubci" / name


def load(path: Path) -> Any:
    """The JSON document in ``path``, or None."""
    try:
        with path.open("rb") as stream:
            return json.loads(stream.read(MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None


def store(path: Path, document: Any) -> None:
    """Replace ``path`` with ``document`` atomically; any failure leaves things as they were."""
    import tempfile  # only on a write (the hook's warm path stays lean)

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    except OSError:
        return
    temp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, ensure_ascii=False, separators=(",", ":"))
        temp.replace(path)
    except OSError:
        temp.unlink(missing_ok=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
