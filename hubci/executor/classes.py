"""Finding Executor classes by parsing (``ast``), never by importing or running user code.

Two modes, as on the Hub (docs/protocol.md#discovery):

* with ``config.yml``: :func:`find_jtype_class` looks for the class named ``jtype`` in the
  ``py_modules`` files and in every module they import from inside the folder (relative
  imports, sibling absolute imports, packages with or without ``__init__.py``);
* without it: :func:`discover_executor_classes` scans root ``*.py`` and ``executor/*.py`` for
  classes whose base is written ``Executor`` or ``x.Executor``.
"""

from __future__ import annotations

import ast
import builtins
import posixpath
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from hubci.errors import HubciError
from hubci.findings import Finding
from hubci.findings.codes import finding

#: Base-class names that make a class an Executor (jina exports both).
EXECUTOR_BASES = frozenset({"Executor", "BaseExecutor"})
#: Safety bound on how many modules one search parses.
MAX_MODULES = 2000


class DependencyCycle(HubciError):
    """The executor's modules import each other in a cycle (the Hub's 4003)."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(
            f"the executor's modules import each other in a cycle: {' -> '.join(cycle)}",
            hint="break the cycle of relative imports",
        )
        self.cycle = cycle


class ExecutorClass(NamedTuple):
    """An executor class found by parsing, with the Hub's two checks on it."""

    name: str
    file: str  # relative to the executor folder, POSIX separators
    line: int  # 1-based
    derives_executor: bool
    legal_init: bool
    col: int = 1
    #: a base comes from a library outside the folder (not jina), so whether it is an
    #: Executor cannot be told by parsing; ``derives_executor`` is then False.
    base_unknown: bool = False


class _Module:
    """A parsed module (or why it could not be parsed) and its top-level classes."""

    __slots__ = ("classes", "error", "rel", "tree")

    def __init__(self, rel: str, tree: ast.Module | None, error: Finding | None = None) -> None:
        self.rel = rel
        self.tree = tree
        self.error = error
        self.classes: dict[str, ast.ClassDef] = {}


class _Parser:
    """Parses each module of one folder once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache: dict[str, _Module] = {}

    def exists(self, rel: str) -> bool:
        return (self.folder / rel).is_file()

    def parse(self, rel: str) -> _Module:
        cached = self.cache.get(rel)
        if cached is not None:
            return cached
        module = self._parse(rel)
        if module.tree is not None:
            for node in _top_level(module.tree.body):
                if isinstance(node, ast.ClassDef):
                    module.classes.setdefault(node.name, node)
        self.cache[rel] = module
        return module

    def _parse(self, rel: str) -> _Module:
        try:
            source = (self.folder / rel).read_bytes()
        except OSError as exc:
            return _Module(rel, None, finding("HUB206", f"cannot read: {exc.strerror}", file=rel))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for user code is not ours to show
                tree = ast.parse(source, filename=rel)
        except SyntaxError as exc:
            reason = exc.msg or "invalid syntax"
            return _Module(
                rel,
                None,
                finding(
                    "HUB202",
                    f"Python syntax error: {reason}",
                    file=rel,
                    line=exc.lineno or None,
                    col=exc.offset if exc.lineno and exc.offset and exc.offset > 0 else None,
                ),
            )
        except (ValueError, UnicodeDecodeError) as exc:
            return _Module(rel, None, finding("HUB202", f"cannot parse: {exc}"[:200], file=rel))
        except (RecursionError, MemoryError):
            message = "cannot parse: the code is nested too deeply for Python's parser"
            return _Module(rel, None, finding("HUB206", message, file=rel))
        return _Module(rel, tree)

    # -- import resolution -------------------------------------------------------------
    def _candidates(self, base: str, dotted: str) -> list[str]:
        target = posixpath.join(base, *dotted.split(".")) if dotted else base
        target = posixpath.normpath(target)
        if target.startswith("..") or posixpath.isabs(target):
            return []
        out = [f"{target}.py", posixpath.join(target, "__init__.py")]
        return [c.removeprefix("./") for c in out]

    def imports(self, module: _Module) -> Iterator[tuple[str, str | None, ast.AST]]:
        """(file, imported name or None, node) for each import resolved inside the folder.

        ``name`` is the name taken from the file by ``from X import name``.
        """
        if module.tree is None:
            return
        here = posixpath.dirname(module.rel)
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    for base in _unique([here, ""]):
                        parts = alias.name.split(".")
                        for depth in range(1, len(parts) + 1):
                            for cand in self._candidates(base, ".".join(parts[:depth])):
                                if self.exists(cand):
                                    yield cand, None, node
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here
                    for _ in range(node.level - 1):
                        if not base:
                            break
                        base = posixpath.dirname(base)
                    else:
                        yield from self._from_import(base, node)
                else:
                    for base in _unique([here, ""]):
                        yield from self._from_import(base, node)

    def _from_import(
        self, base: str, node: ast.ImportFrom
    ) -> Iterator[tuple[str, str | None, ast.AST]]:
        dotted = node.module or ""
        parts = dotted.split(".") if dotted else []
        for depth in range(1, len(parts)):  # parent packages run their __init__.py
            cand = posixpath.join(base, *parts[:depth], "__init__.py").removeprefix("./")
            if self.exists(cand):
                yield cand, None, node
        for cand in self._candidates(base, dotted):
            if self.exists(cand):
                for alias in node.names:
                    yield cand, alias.name, node
        for alias in node.names:  # `from pkg import submodule`
            for cand in self._candidates(base, f"{dotted}.{alias.name}" if dotted else alias.name):
                if self.exists(cand):
                    yield cand, None, node


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking into if/try/with blocks (not into defs)."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.With):
            yield from _top_level(node.body)
            if isinstance(node, ast.If):
                yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse)
            yield from _top_level(node.finalbody)


def legal_init(cls: ast.ClassDef) -> bool:
    """The Hub's rule: ``__init__`` (if any) has a parameter without a default (``self``)."""
    init = None
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "__init__":
            init = node
    if init is None:
        return True
    positional = [*init.args.posonlyargs, *init.args.args]
    return len(positional) - len(init.args.defaults) > 0


def _written_executor(base: ast.expr) -> bool:
    """The normalizer's discovery rule: the base is written ``Executor`` or ``x.Executor``."""
    return (isinstance(base, ast.Name) and base.id == "Executor") or (
        isinstance(base, ast.Attribute) and base.attr == "Executor"
    )


class _BaseResolver:
    """Decides whether a class derives from jina's Executor, following local classes."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser

    def judge(self, module: _Module, cls: ast.ClassDef, seen: set[tuple[str, str]]) -> str:
        """'yes', 'no' or 'unknown'."""
        key = (module.rel, cls.name)
        if key in seen:
            return "no"
        seen = seen | {key}
        verdicts = [self._base(module, b, seen) for b in cls.bases]
        if "yes" in verdicts:
            return "yes"
        return "unknown" if "unknown" in verdicts else "no"

    def _base(self, module: _Module, base: ast.expr, seen: set[tuple[str, str]]) -> str:
        if isinstance(base, ast.Subscript):  # Generic[T], SomeBase[Doc]
            return self._base(module, base.value, seen)
        if isinstance(base, ast.Attribute):
            if base.attr in EXECUTOR_BASES:
                return "yes"
            return "unknown"
        if not isinstance(base, ast.Name):
            return "unknown"
        name = base.id
        binding = self._binding(module, name)
        if binding is None:
            if name in EXECUTOR_BASES:
                return "yes"
            return "no" if hasattr(builtins, name) else "unknown"
        kind, value = binding
        if kind == "class":
            assert isinstance(value, ast.ClassDef)
            return self.judge(module, value, seen)
        assert isinstance(value, ast.ImportFrom)
        original = next(a.name for a in value.names if (a.asname or a.name) == name)
        source = value.module or ""
        if not value.level and (source == "jina" or source.startswith("jina.")):
            return "yes" if original in EXECUTOR_BASES else "unknown"
        for file, imported, node in self.parser.imports(module):
            if node is value and imported == original:
                target = self.parser.parse(file)
                cls = target.classes.get(original)
                if cls is not None:
                    return self.judge(target, cls, seen)
        return "yes" if original in EXECUTOR_BASES else "unknown"

    @staticmethod
    def _binding(module: _Module, name: str) -> tuple[str, ast.AST] | None:
        if module.tree is None:
            return None
        found: tuple[str, ast.AST] | None = None
        for node in _top_level(module.tree.body):
            if isinstance(node, ast.ClassDef) and node.name == name:
                found = ("class", node)
            elif isinstance(node, ast.ImportFrom) and any(
                (a.asname or a.name) == name for a in node.names
            ):
                found = ("import", node)
        return found


def _make(parser: _Parser, module: _Module, cls: ast.ClassDef) -> ExecutorClass:
    verdict = _BaseResolver(parser).judge(module, cls, set())
    return ExecutorClass(
        name=cls.name,
        file=module.rel,
        line=cls.lineno,
        col=cls.col_offset + 1,
        derives_executor=verdict == "yes",
        legal_init=legal_init(cls),
        base_unknown=verdict == "unknown",
    )


def normalize_module_path(entry: str) -> str | None:
    """``py_modules`` entry -> folder-relative POSIX path, or None when it leaves the folder."""
    text = entry.strip().replace("\\", "/")
    if not text or posixpath.isabs(text) or (len(text) > 1 and text[1] == ":"):
        return None
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


def _import_path(
    parser: _Parser, py_modules: list[str], findings: list[Finding]
) -> Iterator[_Module]:
    """The parsed modules of ``py_modules`` and of every module they import, breadth first.

    Listed modules that do not exist (HUB110) and modules that do not parse go to ``findings``.
    """
    queue: list[str] = []
    for entry in py_modules:
        rel = normalize_module_path(entry)
        if rel is None or not parser.exists(rel):
            findings.append(
                finding("HUB110", f"py_modules entry {entry!r} is not a file in the folder")
            )
            continue
        queue.append(rel)
    seen: set[str] = set()
    while queue and len(seen) < MAX_MODULES:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        module = parser.parse(rel)
        if module.error is not None:
            findings.append(module.error)
            continue
        yield module
        queue.extend(file for file, _, _ in parser.imports(module) if file not in seen)


def find_jtype_class(
    folder: Path, py_modules: list[str], jtype: str
) -> tuple[ExecutorClass | None, list[Finding]]:
    """Find class ``jtype`` in ``py_modules`` and the modules they import, by parsing.

    Findings: syntax errors in any module on that import path (HUB202/HUB206) and listed
    modules that do not exist (HUB110). A class that is not found is not a finding here: the
    caller reports it (HUB201, or the normalizer's 4000).
    """
    parser = _Parser(folder)
    findings: list[Finding] = []
    found: tuple[_Module, ast.ClassDef] | None = None
    for module in _import_path(parser, py_modules, findings):
        if found is None and jtype in module.classes:
            found = (module, module.classes[jtype])
    if found is None:
        return None, findings
    return _make(parser, *found), findings


def classes_on_import_path(folder: Path, py_modules: list[str]) -> list[tuple[str, str, int]]:
    """(class name, file, line) of every top-level class on the import path of ``py_modules``."""
    parser = _Parser(folder)
    return [
        (name, module.rel, node.lineno)
        for module in _import_path(parser, py_modules, [])
        for name, node in module.classes.items()
    ]


def discover(folder: Path) -> tuple[list[ExecutorClass], list[Finding], list[str]]:
    """The no-config.yml rule: (classes, syntax findings, scanned files) over root *.py and
    executor/*.py, classes whose base is written ``Executor`` or ``x.Executor``."""
    files = sorted(p.name for p in folder.glob("*.py") if p.is_file())
    sub = folder / "executor"
    if sub.is_dir():
        files += sorted(f"executor/{p.name}" for p in sub.glob("*.py") if p.is_file())
    parser = _Parser(folder)
    classes: list[ExecutorClass] = []
    findings: list[Finding] = []
    for rel in files:
        module = parser.parse(rel)
        if module.error is not None:
            findings.append(module.error)
            continue
        assert module.tree is not None
        for node in _top_level(module.tree.body):
            if isinstance(node, ast.ClassDef) and any(_written_executor(b) for b in node.bases):
                classes.append(_make(parser, module, node))
    return classes, findings, files


def discover_executor_classes(folder: Path) -> list[ExecutorClass]:
    """Executor classes the Hub would discover in a folder without config.yml."""
    return discover(folder)[0]


def module_import_order(folder: Path, files: list[str]) -> list[str]:
    """``files`` ordered so that each comes after the files it imports relatively.

    Ties keep the given order. Raises :class:`DependencyCycle` when the imports form a cycle.
    """
    parser = _Parser(folder)
    members = list(dict.fromkeys(files))
    index = {rel: i for i, rel in enumerate(members)}
    deps: dict[str, set[str]] = {rel: set() for rel in members}
    for rel in members:
        module = parser.parse(rel)
        for file, _, node in parser.imports(module):
            if isinstance(node, ast.ImportFrom) and node.level and file in index and file != rel:
                deps[rel].add(file)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(members):
        ready = [r for r in members if r not in done and deps[r] <= done]
        if not ready:
            raise DependencyCycle(_cycle(deps, [r for r in members if r not in done]))
        first = min(ready, key=index.__getitem__)
        order.append(first)
        done.add(first)
    return order


def import_location(folder: Path, importer: str, imported: str) -> tuple[int, int] | None:
    """(line, column) of the first statement in ``importer`` that imports ``imported``."""
    parser = _Parser(folder)
    for file, _, node in parser.imports(parser.parse(importer)):
        if file == imported and isinstance(node, ast.Import | ast.ImportFrom):
            return node.lineno, node.col_offset + 1
    return None


def _cycle(deps: dict[str, set[str]], pending: list[str]) -> list[str]:
    """One cycle among ``pending``, as a path that returns to its start."""
    path: list[str] = []
    node = pending[0]
    while node not in path:
        path.append(node)
        node = min(d for d in deps[node] if d in pending)
    return [*path[path.index(node) :], node]
