"""The package's layers point one way: import-linter checks the contract in pyproject.toml
(imports inside functions and under TYPE_CHECKING count too), and every top-level module has
its place in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _layers() -> list[set[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["type"] == "layers"
    return [{name.strip() for name in line.split("|")} for line in contract["layers"]]


def test_the_layers_contract_is_kept() -> None:
    proc = subprocess.run(
        [str(BIN / "lint-imports")], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "1 kept, 0 broken" in proc.stdout


def test_every_module_has_its_layer() -> None:
    package = REPO / "hubci"
    modules = {
        f"hubci.{p.stem if p.is_file() else p.name}"
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    placed = [name for layer in _layers() for name in layer]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert modules == set(placed), "place new modules in [tool.importlinter] of pyproject.toml"
