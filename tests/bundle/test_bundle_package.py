"""The package's lazy public names: all resolve, and the selection side stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hubci.bundle


@pytest.mark.parametrize("name", hubci.bundle.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(hubci.bundle, name) is not None
    assert name in dir(hubci.bundle)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = hubci.bundle.nope


def test_selection_and_findings_do_not_import_the_zip_side() -> None:
    code = (
        "import sys\n"
        "from hubci.bundle import bundle_findings, collect_files\n"
        "heavy = sorted({'zipfile', 'tempfile', 'shutil'} & set(sys.modules))\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
