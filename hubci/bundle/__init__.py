"""The bundle: which files of an executor folder are uploaded, whether that is safe, the
deterministic zip that carries them, and the safe extraction of such a zip on the local Hub.

docs/bundle.md is the user-facing description of every rule here.

Names are imported on first use (PEP 562), so ``hubci validate`` (the pre-commit hook), which
needs only the file selection and the findings, does not pay for zipfile, tempfile and the rest
of the writing and extracting side.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers
    from hubci.bundle.archive import Bundle, compression_for, write_bundle
    from hubci.bundle.errors import BundleError, UnsafeBundle
    from hubci.bundle.extract import safe_extract
    from hubci.bundle.files import BundleEntry, FileSet, collect_files
    from hubci.bundle.ignore import ALWAYS_IGNORED, DEFAULT_IGNORE
    from hubci.bundle.safety import bundle_findings

__all__ = [
    "ALWAYS_IGNORED",
    "DEFAULT_IGNORE",
    "Bundle",
    "BundleEntry",
    "BundleError",
    "FileSet",
    "UnsafeBundle",
    "bundle_findings",
    "collect_files",
    "compression_for",
    "safe_extract",
    "write_bundle",
]

_WHERE: dict[str, str] = {
    "ALWAYS_IGNORED": "hubci.bundle.ignore",
    "DEFAULT_IGNORE": "hubci.bundle.ignore",
    "Bundle": "hubci.bundle.archive",
    "BundleEntry": "hubci.bundle.files",
    "BundleError": "hubci.bundle.errors",
    "FileSet": "hubci.bundle.files",
    "UnsafeBundle": "hubci.bundle.errors",
    "bundle_findings": "hubci.bundle.safety",
    "collect_files": "hubci.bundle.files",
    "compression_for": "hubci.bundle.archive",
    "safe_extract": "hubci.bundle.extract",
    "write_bundle": "hubci.bundle.archive",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
