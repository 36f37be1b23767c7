"""The bundle: which files of an executor folder are uploaded, whether that is safe, the
deterministic zip that carries them, and the safe extraction of such a zip on the local Hub.

docs/bundle.md is the user-facing description of every rule here.
"""

from __future__ import annotations

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
