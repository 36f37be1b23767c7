"""``pyproject.toml`` dependencies appended to ``requirements.txt``.

As the Hub's normalizer does it: docs/protocol.md#metadata-and-dependencies.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_TILDE = re.compile(r"^~(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def _poetry_spec(name: str, spec: Any) -> str | None:
    """A poetry dependency as a PEP 508 line (``^1.2`` -> ``>=1.2,<2.0``), None if unusable."""
    if isinstance(spec, dict):
        spec = spec.get("version")
    if not isinstance(spec, str):
        return None
    spec = spec.strip()
    if spec in ("", "*"):
        return name
    caret = _CARET.match(spec)
    if caret:
        nums = [int(n) if n is not None else None for n in caret.groups()]
        major, minor, patch = nums[0] or 0, nums[1], nums[2]
        low = ".".join(str(n) for n in (major, minor, patch) if n is not None)
        if major > 0 or minor is None:
            high = f"{major + 1}.0"
        elif minor > 0 or patch is None:
            high = f"0.{minor + 1}"
        else:
            high = f"0.0.{(patch or 0) + 1}"
        return f"{name}>={low},<{high}"
    tilde = _TILDE.match(spec)
    if tilde:
        t_major, t_minor = tilde.group(1), tilde.group(2)
        low = ".".join(n for n in tilde.groups() if n is not None)
        high = f"{int(t_major) + 1}.0" if t_minor is None else f"{t_major}.{int(t_minor) + 1}"
        return f"{name}>={low},<{high}"
    if spec[0].isdigit():
        return f"{name}=={spec}"
    return f"{name}{spec}"


def pyproject_requirements(folder: Path) -> tuple[list[str], str | None]:
    """(requirement lines, a warning) from ``folder/pyproject.toml``."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        return [], None
    import importlib

    # tomllib is in the standard library from 3.11; tomli (its origin) is the dependency before
    tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [], f"pyproject.toml was ignored: {exc}"
    deps = data.get("project", {}).get("dependencies")
    if isinstance(deps, list):
        return [d for d in deps if isinstance(d, str)], None
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies")
    if isinstance(poetry, dict):
        lines = [_poetry_spec(k, v) for k, v in poetry.items() if k.lower() != "python"]
        return [line for line in lines if line], None
    return [], None


def merge_pyproject(folder: Path) -> str | None:
    """Append the pyproject dependencies to requirements.txt; return a warning or None."""
    lines, warning = pyproject_requirements(folder)
    if lines:
        req = folder / "requirements.txt"
        existing = req.read_text(encoding="utf-8", errors="replace") if req.is_file() else ""
        if existing and not existing.endswith("\n"):
            existing += "\n"
        req.write_text(existing + "\n".join(lines) + "\n", encoding="utf-8")
    return warning
