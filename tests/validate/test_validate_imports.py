"""`hubci validate` is the pre-commit hook: no Docker, GitHub or HTTP library on its path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.validate.support import FIXTURES

REPO = Path(__file__).resolve().parent.parent.parent
FORBIDDEN = (
    "docker",
    "github3",
    "requests",
    "requests_toolbelt",
    "urllib3",
    "httpx",
    "aiohttp",
    "starlette",
    "uvicorn",
    "multipart",
    "python_multipart",
    "tenacity",
    "http.client",
    "urllib.request",
)
PROBE = """
import sys
from hubci.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["validate", str(REPO / "examples" / "hello-executor")],
        ["validate", "--format", "github", str(FIXTURES / "good_requirements")],
        [
            "validate",
            "--format",
            "json",
            "--build-env",
            "A=1",
            str(FIXTURES / "hub701_url_credentials"),
        ],
        ["validate", str(FIXTURES / "good_public_repo" / "config.yml")],
    ],
    ids=["text", "github", "json", "file"],
)
def test_validate_imports_no_network_library(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    modules = set(proc.stderr.split())
    assert "hubci.validate" in modules, proc.stderr[-2000:]
    loaded = sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert loaded == []
