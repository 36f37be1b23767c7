"""Shared data for the validate tests: fixture folder paths and a minimal valid executor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "executors"

MakeExecutor = Callable[[Mapping[str, str | bytes]], Path]

CONFIG = "jtype: MyExecutor\nmetas:\n  name: MyExecutor\n  py_modules:\n    - executor.py\n"
EXECUTOR = (
    "from jina import Executor, requests\n\n\n"
    "class MyExecutor(Executor):\n"
    "    @requests\n"
    "    def foo(self, docs, **kwargs):\n"
    "        return docs\n"
)
BASE: dict[str, str | bytes] = {
    "config.yml": CONFIG,
    "executor.py": EXECUTOR,
    "requirements.txt": "numpy>=1.21\n",
}
