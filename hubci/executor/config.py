"""Reading ``config.yml`` (and ``manifest.yml``) the way the Hub does, with line numbers.

Jina configs may carry custom YAML tags (``!MyExecutor``, ``!Flow``); a plain ``safe_load``
crashes on them. :class:`TolerantLoader` builds a tagged node as plain data instead and the
root tag is remembered. Nothing here imports or runs user code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from hubci.findings import Finding
from hubci.findings.codes import finding

CONFIG_FILE = "config.yml"
MANIFEST_FILE = "manifest.yml"

#: Top-level keys Jina's executor config understands (``jina.jaml`` executor loading).
KNOWN_TOP_LEVEL_KEYS: frozenset[str] = frozenset(
    {"jtype", "with", "metas", "requests", "py_modules", "dynamic_batching", "version"}
)

NameSource = Literal["--name", "metas.name", "manifest.yml", "jtype", "none"]
_DEFAULT_TAGS = frozenset(
    {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"}
)


#: libyaml's parser when PyYAML was built with it (several times faster), else pure Python.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TolerantLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that accepts any unknown tag: the node is built as a plain mapping/list/str."""


def _construct_unknown(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    return None  # pragma: no cover - yaml has no other node kinds


TolerantLoader.add_constructor(None, _construct_unknown)


class Located(NamedTuple):
    """A value from a YAML file and where it is (1-based line and column of the value)."""

    value: Any
    line: int
    col: int


@dataclass
class ConfigInfo:
    """What ``config.yml`` says, with locations. ``findings`` holds problems met while reading."""

    exists: bool
    file: str = CONFIG_FILE
    data: dict[Any, Any] | None = None
    root_tag: str | None = None  # e.g. "!MyExecutor" for the legacy tagged form
    root_tag_loc: Located | None = None
    keys: dict[str, Located] = field(default_factory=dict)  # top-level keys -> value location
    jtype: str | None = None  # only when ``jtype`` is a string
    jtype_loc: Located | None = None
    py_modules: list[str] = field(default_factory=list)
    py_module_locs: list[Located] = field(default_factory=list)  # one per py_modules entry
    py_modules_where: Literal["root", "metas", "both"] | None = None
    metas: dict[Any, Any] | None = None
    metas_name: str | None = None  # only when ``metas.name`` is a non-empty string
    metas_name_loc: Located | None = None  # also set when the value is not a string
    findings: list[Finding] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return self.data is not None

    @property
    def jtype_line(self) -> int | None:
        return self.jtype_loc.line if self.jtype_loc else None

    @property
    def metas_name_line(self) -> int | None:
        return self.metas_name_loc.line if self.metas_name_loc else None


def _loc(node: yaml.Node, value: Any) -> Located:
    return Located(value, node.start_mark.line + 1, node.start_mark.column + 1)


def _read_text(path: Path, relname: str, findings: list[Finding]) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        findings.append(
            finding("HUB117", f"{relname} cannot be read: {exc.strerror}", file=relname)
        )
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        findings.append(finding("HUB117", f"{relname} is not UTF-8 text", file=relname, line=line))
        return None


def _reader_error(exc: yaml.reader.ReaderError, text: str, relname: str) -> Finding:
    position = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    character = exc.character if isinstance(exc.character, int) else 0
    return finding(
        "HUB103",
        f"{relname} contains a character YAML does not allow (#x{character:04x})",
        file=relname,
        line=line,
        col=col,
        hint="remove the control character",
    )


def parse_yaml(text: str, relname: str, findings: list[Finding]) -> tuple[yaml.Node | None, Any]:
    """Compose and construct one YAML document; problems become findings (HUB103)."""
    try:
        loader = TolerantLoader(text)  # the reader checks for forbidden characters here
    except yaml.reader.ReaderError as exc:
        findings.append(_reader_error(exc, text, relname))
        return None, None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        findings.append(
            finding(
                "HUB103",
                f"{relname} is not valid YAML: {problem}",
                file=relname,
                line=mark.line + 1 if mark else None,
                col=mark.column + 1 if mark else None,
            )
        )
        return None, None
    except yaml.reader.ReaderError as exc:
        findings.append(_reader_error(exc, text, relname))
        return None, None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        findings.append(
            finding("HUB103", f"{relname} is not valid YAML: {str(exc)[:200]}", file=relname)
        )
        return None, None
    finally:
        loader.dispose()
    return node, data


def _mapping_entries(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


def _duplicates(node: yaml.MappingNode, relname: str, where: str, findings: list[Finding]) -> None:
    seen: set[str] = set()
    for key, _ in _mapping_entries(node):
        if key.value in seen:
            findings.append(
                finding(
                    "HUB115",
                    f"key {key.value!r}{where} appears twice; the last one wins",
                    file=relname,
                    line=key.start_mark.line + 1,
                    col=key.start_mark.column + 1,
                )
            )
        seen.add(key.value)


def _py_modules(info: ConfigInfo, value_node: yaml.Node, value: Any, relname: str) -> None:
    if value is None:
        return  # `py_modules:` with nothing after it lists no module (HUB111)
    if isinstance(value, str):
        info.py_modules = [value]
        info.py_module_locs = [_loc(value_node, value)]
        return
    if isinstance(value, list) and isinstance(value_node, yaml.SequenceNode):
        for item_node, item in zip(value_node.value, value, strict=False):
            if isinstance(item, str):
                info.py_modules.append(item)
                info.py_module_locs.append(_loc(item_node, item))
            else:
                info.findings.append(
                    finding(
                        "HUB108",
                        "each py_modules entry must be a file path string",
                        file=relname,
                        line=item_node.start_mark.line + 1,
                        col=item_node.start_mark.column + 1,
                    )
                )
        return
    info.findings.append(
        finding(
            "HUB108",
            "py_modules must be a file path or a list of file paths",
            file=relname,
            line=value_node.start_mark.line + 1,
            col=value_node.start_mark.column + 1,
        )
    )


def _both(info: ConfigInfo, key_node: yaml.Node) -> None:
    info.py_modules_where = "both"
    info.findings.append(
        finding(
            "HUB107",
            "py_modules is set both at the top level and under metas",
            file=CONFIG_FILE,
            line=key_node.start_mark.line + 1,
            col=key_node.start_mark.column + 1,
        )
    )


def load_config(folder: Path) -> ConfigInfo:
    """Read ``folder/config.yml``; never raises on bad content (problems go to ``findings``)."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return ConfigInfo(exists=False)
    info = ConfigInfo(exists=True)
    text = _read_text(path, CONFIG_FILE, info.findings)
    if text is None:
        return info
    node, data = parse_yaml(text, CONFIG_FILE, info.findings)
    if node is not None and node.tag not in _DEFAULT_TAGS and node.tag.startswith("!"):
        info.root_tag = node.tag
        info.root_tag_loc = _loc(node, node.tag)
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        if not info.findings:
            kind = "empty" if data is None else f"a {type(data).__name__}"
            info.findings.append(
                finding(
                    "HUB104",
                    f"{CONFIG_FILE} must be a mapping with at least `jtype`, but it is {kind}",
                    file=CONFIG_FILE,
                    line=node.start_mark.line + 1 if node is not None else None,
                )
            )
        return info
    info.data = data
    _duplicates(node, CONFIG_FILE, "", info.findings)
    for key_node, value_node in _mapping_entries(node):
        key = key_node.value
        value = data.get(key)
        info.keys[key] = Located(
            value, key_node.start_mark.line + 1, key_node.start_mark.column + 1
        )
        if key == "jtype":
            info.jtype_loc = _loc(value_node, value)
            if isinstance(value, str):
                info.jtype = value
        elif key == "py_modules":
            if info.py_modules_where == "metas":
                _both(info, key_node)
            else:
                info.py_modules_where = "root"
                _py_modules(info, value_node, value, CONFIG_FILE)
        elif (
            key == "metas" and isinstance(value_node, yaml.MappingNode) and isinstance(value, dict)
        ):
            info.metas = value
            _duplicates(value_node, CONFIG_FILE, " under metas", info.findings)
            for m_key, m_value_node in _mapping_entries(value_node):
                m_value = value.get(m_key.value)
                if m_key.value == "name":
                    info.metas_name_loc = _loc(m_value_node, m_value)
                    if isinstance(m_value, str) and m_value.strip():
                        info.metas_name = m_value
                elif m_key.value == "py_modules":
                    if info.py_modules_where == "root":
                        _both(info, m_key)
                    else:
                        info.py_modules_where = "metas"
                        _py_modules(info, m_value_node, m_value, CONFIG_FILE)
    return info


def manifest_name(folder: Path) -> tuple[str | None, Located | None, list[Finding]]:
    """``name`` from ``manifest.yml``: (name when a non-empty string, its location, problems)."""
    path = folder / MANIFEST_FILE
    findings: list[Finding] = []
    if not path.is_file():
        return None, None, findings
    text = _read_text(path, MANIFEST_FILE, findings)
    if text is None:
        return None, None, findings
    node, data = parse_yaml(text, MANIFEST_FILE, findings)
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        return None, None, findings
    for key_node, value_node in _mapping_entries(node):
        if key_node.value == "name":
            value = data.get("name")
            loc = _loc(value_node, value)
            if isinstance(value, str) and value.strip():
                return value, loc, findings
            return None, loc, findings
    return None, None, findings


def resolve_name(
    folder: Path,
    explicit: str | None = None,
    *,
    info: ConfigInfo | None = None,
    class_name: str | None = None,
) -> tuple[str | None, NameSource]:
    """The name a push uses: ``--name``, else ``metas.name``, else manifest.yml, else jtype
    (without config.yml: the one Executor class in the code). The one place of that order.

    ``info`` is the folder's config when the caller has read it already, ``class_name`` its one
    Executor class when the caller has found it (a large repository is not parsed twice).
    """
    if explicit:
        return explicit, "--name"
    info = info if info is not None else load_config(folder)
    if info.metas_name:
        return info.metas_name, "metas.name"
    name, _, _ = manifest_name(folder)
    if name:
        return name, "manifest.yml"
    if info.jtype:
        return info.jtype, "jtype"
    if not info.exists and class_name:
        return class_name, "jtype"
    if not info.exists:
        from hubci.executor.classes import discover_executor_classes

        classes = discover_executor_classes(folder)
        if len(classes) == 1:
            return classes[0].name, "jtype"
    return None, "none"
