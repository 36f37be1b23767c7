"""The normalizer's ``ExecutorModel`` (docs/protocol.md#the-executor-model), read by ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from hubci.executor.classes import ExecutorClass


def _annotation(node: ast.expr | None) -> str | None:
    return ast.unparse(node) if node is not None else None


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[dict[str, Any]]]:
    positional = [*fn.args.posonlyargs, *fn.args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(fn.args.defaults))
    defaults += list(fn.args.defaults)
    args: list[dict[str, Any]] = []
    kwargs: list[dict[str, Any]] = []
    for arg, default in zip(positional, defaults, strict=True):
        if default is None:
            args.append({"arg": arg.arg, "annotation": _annotation(arg.annotation)})
        else:
            kwargs.append(
                {
                    "arg": arg.arg,
                    "annotation": _annotation(arg.annotation),
                    "default": ast.unparse(default),
                }
            )
    for arg, kw_default in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
        kwargs.append(
            {
                "arg": arg.arg,
                "annotation": _annotation(arg.annotation),
                "default": ast.unparse(kw_default) if kw_default is not None else None,
            }
        )
    return {"args": args, "kwargs": kwargs}


def _requests_on(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``ALL`` for a bare ``@requests``, the ``on=`` value as written, None if not decorated."""
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name != "requests":
            continue
        if isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if kw.arg == "on":
                    return ast.unparse(kw.value)
            if deco.args:
                return ast.unparse(deco.args[0])
        return "ALL"
    return None


def _find_class(tree: ast.Module, cls: ExecutorClass) -> ast.ClassDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.name and node.lineno == cls.line:
            return node
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.name:
            return node
    return None


def executor_model(folder: Path, cls: ExecutorClass) -> dict[str, Any]:
    model: dict[str, Any] = {
        "executor": cls.name,
        "docstring": None,
        "init": {"args": [], "kwargs": [], "docstring": None},
        "endpoints": [],
        "filepath": cls.file,
        "hubble_score_metrics": score_metrics(folder),
    }
    try:
        tree = ast.parse((folder / cls.file).read_text(encoding="utf-8"), cls.file)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return model
    node = _find_class(tree, cls)
    if node is None:
        return model
    model["docstring"] = ast.get_docstring(node)
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if item.name == "__init__":
            model["init"] = {**_signature(item), "docstring": ast.get_docstring(item)}
            continue
        on = _requests_on(item)
        if on is not None:
            model["endpoints"].append(
                {
                    "name": item.name,
                    **_signature(item),
                    "docstring": ast.get_docstring(item),
                    "requests": on,
                }
            )
    return model


def score_metrics(folder: Path) -> dict[str, bool]:
    tests = folder / "tests"
    return {
        "dockerfile_exists": (folder / "Dockerfile").is_file(),
        "manifest_exists": (folder / "manifest.yml").is_file(),
        "config_exists": (folder / "config.yml").is_file(),
        "readme_exists": (folder / "README.md").is_file(),
        "requirements_exists": (folder / "requirements.txt").is_file(),
        "tests_exists": tests.is_dir() and any(tests.glob("test_*.py")),
        "gpu_dockerfile_exists": (folder / "Dockerfile.gpu").is_file(),
    }
