"""Executor classes found by parsing only: jtype search, discovery, import order."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubci.executor.classes import (
    DependencyCycle,
    ExecutorClass,
    discover_executor_classes,
    find_jtype_class,
    module_import_order,
)


def _write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


CLS = "from jina import Executor\n\n\nclass MyExec(Executor):\n    pass\n"


@pytest.mark.parametrize(
    ("files", "modules", "where"),
    [
        ({"a.py": CLS}, ["a.py"], "a.py"),
        ({"a.py": CLS}, ["./a.py"], "a.py"),
        (
            {"pkg/__init__.py": "from .impl import MyExec\n", "pkg/impl.py": CLS},
            ["pkg/__init__.py"],
            "pkg/impl.py",
        ),
        (
            {"pkg/__init__.py": "from . import impl\n", "pkg/impl.py": CLS},
            ["pkg/__init__.py"],
            "pkg/impl.py",
        ),
        (
            {"pkg/sub/__init__.py": "from ..impl import MyExec\n", "pkg/impl.py": CLS},
            ["pkg/sub/__init__.py"],
            "pkg/impl.py",
        ),
        (
            {"main.py": "import lib.deep.mod\n", "lib/deep/mod.py": CLS},
            ["main.py"],
            "lib/deep/mod.py",
        ),
        ({"main.py": "from lib import mod\n", "lib/mod.py": CLS}, ["main.py"], "lib/mod.py"),
        (
            {"src/main.py": "from helper import MyExec\n", "src/helper.py": CLS},
            ["src/main.py"],
            "src/helper.py",
        ),
        (
            {
                "main.py": "try:\n    from .x import MyExec\nexcept ImportError:\n    pass\n",
                "x.py": "if True:\n" + "\n".join("    " + ln for ln in CLS.splitlines()) + "\n",
            },
            ["main.py"],
            "x.py",
        ),
    ],
    ids=[
        "direct",
        "dot-slash",
        "package",
        "from-dot-import",
        "parent-relative",
        "import-dotted",
        "from-pkg-import-module",
        "sibling-absolute",
        "try-and-if",
    ],
)
def test_jtype_class_is_found_through_imports(
    tmp_path: Path, files: dict[str, str], modules: list[str], where: str
) -> None:
    cls, findings = find_jtype_class(_write(tmp_path, files), modules, "MyExec")
    assert findings == []
    assert cls is not None
    assert (cls.name, cls.file, cls.derives_executor, cls.legal_init) == (
        "MyExec",
        where,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("source", "derives", "unknown"),
    [
        ("from jina import Executor\nclass MyExec(Executor): pass\n", True, False),
        ("import jina\nclass MyExec(jina.Executor): pass\n", True, False),
        ("from jina import Executor as B\nclass MyExec(B): pass\n", True, False),
        (
            "from jina.serve.executors import BaseExecutor\nclass MyExec(BaseExecutor): pass\n",
            True,
            False,
        ),
        (
            "from jina import Executor\nclass Mid(Executor): pass\nclass MyExec(Mid): pass\n",
            True,
            False,
        ),
        ("from base import Base\nclass MyExec(Base): pass\n", True, False),
        (
            "from typing import Generic\nfrom jina import Executor\n"
            "class MyExec(Executor, Generic[int]): pass\n",
            True,
            False,
        ),
        ("class MyExec: pass\n", False, False),
        ("class MyExec(object): pass\n", False, False),
        ("class Mid: pass\nclass MyExec(Mid): pass\n", False, False),
        ("from some_library import Encoder\nclass MyExec(Encoder): pass\n", False, True),
        ("import lib\nclass MyExec(lib.Thing): pass\n", False, True),
    ],
)
def test_executor_base_in_any_spelling(
    tmp_path: Path, source: str, derives: bool, unknown: bool
) -> None:
    folder = _write(
        tmp_path, {"a.py": source, "base.py": "import jina\nclass Base(jina.Executor): pass\n"}
    )
    cls, _ = find_jtype_class(folder, ["a.py"], "MyExec")
    assert cls is not None
    assert (cls.derives_executor, cls.base_unknown) == (derives, unknown)


@pytest.mark.parametrize(
    ("init", "legal"),
    [
        ("", True),
        ("    def __init__(self, **kwargs): pass\n", True),
        ("    def __init__(self, a=1, *args, **kwargs): pass\n", True),
        ("    def __init__(*args, **kwargs): pass\n", False),
        ("    def __init__(self=None): pass\n", False),
        ("    def __init__(*, a): pass\n", False),
    ],
)
def test_legal_init(tmp_path: Path, init: str, legal: bool) -> None:
    source = f"from jina import Executor\nclass MyExec(Executor):\n    x = 1\n{init}"
    cls, _ = find_jtype_class(_write(tmp_path, {"a.py": source}), ["a.py"], "MyExec")
    assert cls is not None
    assert cls.legal_init is legal


def test_syntax_errors_count_only_on_the_import_path(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {
            "a.py": "from .b import helper\n" + CLS,
            "b.py": "def helper(:\n    pass\n",
            "unrelated.py": "def broken(:\n",
        },
    )
    cls, findings = find_jtype_class(folder, ["a.py"], "MyExec")
    assert cls is not None
    assert [(f.code, f.file, f.line) for f in findings] == [("HUB202", "b.py", 1)]


def test_missing_modules_and_missing_class(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"a.py": CLS})
    cls, findings = find_jtype_class(folder, ["a.py", "nope.py", "../x.py"], "Other")
    assert cls is None
    assert [f.code for f in findings] == ["HUB110", "HUB110"]


def test_user_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n" + CLS
    folder = _write(tmp_path, {"a.py": source, "executor.py": source})
    cls, _ = find_jtype_class(folder, ["a.py"], "MyExec")
    assert cls is not None
    assert discover_executor_classes(folder)
    assert not marker.exists()


def test_discovery_follows_the_hub_rule(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {
            "root.py": "import jina\nclass A(jina.Executor):\n    pass\nclass B(object): pass\n",
            "executor/impl.py": "from jina import Executor\nclass C(Executor):\n"
            "    def __init__(**kw): pass\n",
            "executor/deeper/x.py": CLS,  # not scanned: only executor/*.py
            "other/y.py": CLS,  # not scanned
            "executor/alias.py": "from jina import Executor as E\nclass D(E): pass\n",
        },
    )
    assert discover_executor_classes(folder) == [
        ExecutorClass("A", "root.py", 2, True, True),
        ExecutorClass("C", "executor/impl.py", 2, True, False),
    ]


def test_module_import_order_puts_dependencies_first(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {
            "executor/__init__.py": "from .impl import X\n",
            "executor/impl.py": "from .helpers import h\nimport numpy\n",
            "executor/helpers.py": "",
            "executor/free.py": "",
        },
    )
    files = ["executor/__init__.py", "executor/free.py", "executor/impl.py", "executor/helpers.py"]
    assert module_import_order(folder, files) == [
        "executor/free.py",
        "executor/helpers.py",
        "executor/impl.py",
        "executor/__init__.py",
    ]


def test_module_import_cycle(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {"a.py": "from .b import x\n", "b.py": "from .c import y\n", "c.py": "from .a import z\n"},
    )
    with pytest.raises(DependencyCycle) as info:
        module_import_order(folder, ["a.py", "b.py", "c.py"])
    assert info.value.cycle == ["a.py", "b.py", "c.py", "a.py"]
    assert "a.py -> b.py -> c.py -> a.py" in info.value.format_message()
