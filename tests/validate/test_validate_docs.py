"""docs/validate.md documents every finding code with its category and severity."""

from __future__ import annotations

import re
from pathlib import Path

from hubci.bundle import codes as bundle_codes
from hubci.findings.codes import CODES

DOC = (Path(__file__).resolve().parent.parent.parent / "docs" / "validate.md").read_text()
ROWS = {m.group(1): m.group(0) for m in re.finditer(r"^\| (HUB\d{3}) \|.*$", DOC, re.M)}


def test_every_validate_code_has_its_row() -> None:
    for code, entry in CODES.items():
        row = ROWS[code]
        assert f"`{entry.slug}`" in row
        assert f"| {entry.category} | {entry.severity.value} |" in row


def test_every_bundle_code_is_listed() -> None:
    bundle = {v for k, v in vars(bundle_codes).items() if k.isupper() and str(v).startswith("HUB")}
    assert bundle
    assert bundle <= set(ROWS)


def test_no_row_for_an_unknown_code() -> None:
    bundle = {v for k, v in vars(bundle_codes).items() if k.isupper() and str(v).startswith("HUB")}
    assert set(ROWS) <= set(CODES) | bundle
