"""config and python checks: what the Hub's client and normalizer need from config.yml and code."""

from __future__ import annotations

import keyword
from collections.abc import Collection
from pathlib import Path

from hubci import rules
from hubci.executor.classes import (
    DependencyCycle,
    ExecutorClass,
    classes_on_import_path,
    discover,
    find_jtype_class,
    import_location,
    module_import_order,
    normalize_module_path,
)
from hubci.executor.config import (
    CONFIG_FILE,
    KNOWN_TOP_LEVEL_KEYS,
    MANIFEST_FILE,
    ConfigInfo,
    load_config,
    manifest_name,
    resolve_name,
)
from hubci.findings import Finding
from hubci.findings.codes import finding


class ConfigResult:
    """config and python findings, with the jtype and the name a push uses."""

    __slots__ = ("findings", "jtype", "name")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.jtype: str | None = None
        self.name: str | None = None


def _missing_module_hint(entry: str, rel: str, *, is_dir: bool) -> str | None:
    """A hint for the two usual slips: a package folder, a dotted module name (jinahub.x.y)."""
    if is_dir:
        return f"list the package's file: `{rel}/__init__.py`"
    parts = entry.split(".")
    if len(parts) > 1 and parts[-1] != "py" and all(p.isidentifier() for p in parts):
        return (
            "py_modules lists files, not module names: write the file's path relative to the "
            f"executor folder, e.g. `{'/'.join(parts)}.py`"
        )
    return None  # the code's default hint


def _class_findings(cls: ExecutorClass) -> list[Finding]:
    out: list[Finding] = []
    if not cls.derives_executor and not cls.base_unknown:
        out.append(
            finding(
                "HUB203",
                f"class {cls.name} does not derive from jina's Executor",
                file=cls.file,
                line=cls.line,
                col=cls.col,
            )
        )
    if not cls.legal_init:
        out.append(
            finding(
                "HUB204",
                f"{cls.name}.__init__ has no parameter without a default (not even self): "
                "the Hub rejects it as an illegal executor",
                file=cls.file,
                line=cls.line,
                col=cls.col,
            )
        )
    return out


def _closest_class(folder: Path, modules: list[str], jtype: str) -> str | None:
    """A hint naming the class on the import path whose name is closest to ``jtype``."""
    classes = classes_on_import_path(folder, modules)
    if not classes:
        return None
    from difflib import get_close_matches

    by_lower = {name.lower(): (name, file, line) for name, file, line in classes}
    close = get_close_matches(jtype.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close:
        return None
    name, file, line = by_lower[close[0]]
    return f"did you mean `jtype: {name}` (the class at {file}:{line})?"


def _valid_jtype(value: str) -> bool:
    return value.isidentifier() and not keyword.iskeyword(value)


def _with_config(
    folder: Path, info: ConfigInfo, bundled: Collection[str] | None, out: ConfigResult
) -> None:
    f = out.findings
    f += info.findings
    if info.data is None:
        return
    if "jtype" not in info.keys:
        hint = None
        loc = info.root_tag_loc
        if info.root_tag:
            tag = info.root_tag.lstrip("!")
            hint = f"replace the legacy `{info.root_tag}` tag with a line `jtype: {tag}`"
        f.append(
            finding(
                "HUB105",
                f"{CONFIG_FILE} has no `jtype`",
                file=CONFIG_FILE,
                line=loc.line if loc else None,
                col=loc.col if loc else None,
                hint=hint,
            )
        )
    elif info.jtype is None or not _valid_jtype(info.jtype):
        loc = info.jtype_loc
        shown = "empty" if loc is None or loc.value is None else repr(loc.value)[:80]
        f.append(
            finding(
                "HUB106",
                f"`jtype` must be a Python class name, but it is {shown}",
                file=CONFIG_FILE,
                line=loc.line if loc else None,
                col=loc.col if loc else None,
            )
        )
    else:
        out.jtype = info.jtype
    metas = info.keys.get("metas")
    if metas is not None and not isinstance(metas.value, dict):
        f.append(
            finding(
                "HUB116",
                "`metas` must be a mapping",
                file=CONFIG_FILE,
                line=metas.line,
                col=metas.col,
            )
        )
    for key, loc in info.keys.items():
        if key not in KNOWN_TOP_LEVEL_KEYS:
            from difflib import get_close_matches  # only when there is a key to correct

            close = get_close_matches(key, sorted(KNOWN_TOP_LEVEL_KEYS), n=1, cutoff=0.6)
            f.append(
                finding(
                    "HUB114",
                    f"unknown top-level key {key!r} in {CONFIG_FILE}",
                    file=CONFIG_FILE,
                    line=loc.line,
                    col=loc.col,
                    hint=f"did you mean `{close[0]}`?" if close else None,
                )
            )
    name_loc = info.metas_name_loc
    if name_loc is not None and info.metas_name is None:
        f.append(
            finding(
                "HUB112",
                "`metas.name` must be a non-empty string",
                file=CONFIG_FILE,
                line=name_loc.line,
                col=name_loc.col,
            )
        )
    elif (
        info.metas_name is not None
        and name_loc is not None
        and not rules.EXECUTOR_NAME.match(info.metas_name)
    ):
        f.append(
            finding(
                "HUB112",
                f"`metas.name` {info.metas_name!r} is not a valid executor name",
                file=CONFIG_FILE,
                line=name_loc.line,
                col=name_loc.col,
            )
        )
    _modules(folder, info, bundled, out)


def _modules(
    folder: Path, info: ConfigInfo, bundled: Collection[str] | None, out: ConfigResult
) -> None:
    f = out.findings
    badly_typed = any(p.code == "HUB108" for p in info.findings)
    if info.py_modules_where is None or (not info.py_modules and not badly_typed):
        line = info.jtype_loc.line if info.jtype_loc else None
        f.append(
            finding(
                "HUB111",
                f"{CONFIG_FILE} lists no py_modules, so the Hub cannot find the executor's code",
                file=CONFIG_FILE,
                line=line,
            )
        )
        return
    existing: list[str] = []
    for entry, loc in zip(info.py_modules, info.py_module_locs, strict=True):
        rel = normalize_module_path(entry)
        if rel is None:
            f.append(
                finding(
                    "HUB109",
                    f"py_modules entry {entry!r} is outside the folder",
                    file=CONFIG_FILE,
                    line=loc.line,
                    col=loc.col,
                )
            )
        elif not (folder / rel).is_file():
            is_dir = (folder / rel).is_dir()
            f.append(
                finding(
                    "HUB110",
                    f"py_modules entry {entry!r} "
                    + ("is a folder, not a file" if is_dir else "does not exist"),
                    file=CONFIG_FILE,
                    line=loc.line,
                    col=loc.col,
                    hint=_missing_module_hint(entry, rel, is_dir=is_dir),
                )
            )
        elif bundled is not None and rel not in bundled:
            f.append(
                finding(
                    "HUB110",
                    f"py_modules entry {entry!r} is excluded from the bundle by the ignore rules",
                    file=CONFIG_FILE,
                    line=loc.line,
                    col=loc.col,
                    hint="remove the pattern that excludes it from .gitignore/.dockerignore",
                )
            )
        else:
            existing.append(rel)
    if out.jtype is None or not existing:
        return
    cls, problems = find_jtype_class(folder, existing, out.jtype)
    f += problems
    if cls is None:
        if not any(p.code == "HUB202" for p in problems):
            jloc = info.jtype_loc
            f.append(
                finding(
                    "HUB201",
                    f"class {out.jtype} (the jtype) is not defined in py_modules "
                    f"({', '.join(existing)}) or in the modules they import",
                    file=CONFIG_FILE,
                    line=jloc.line if jloc else None,
                    col=jloc.col if jloc else None,
                    hint=_closest_class(folder, existing, out.jtype),
                )
            )
        return
    f += _class_findings(cls)


def _executors_below_hint(folder: Path) -> str | None:
    """For a folder that holds executors below it (a monorepo root): name them, since a push of
    the folder itself fails the same way. None (the code's own hint) when it holds none."""
    from hubci.executor.discover import discover as discover_below  # only for a non-executor

    below = [e.rel for e in discover_below(folder).executors if e.rel not in ("", ".")]
    if not below:
        return None
    names = ", ".join(below[:5]) + (f" and {len(below) - 5} more" if len(below) > 5 else "")
    return (
        f"{folder} holds executor folders below it ({names}): validate them with "
        f"`hubci validate -r {folder}`, and push each folder, not the root"
    )


def _without_config(folder: Path, out: ConfigResult) -> None:
    f = out.findings
    if (folder / "config.yaml").is_file():
        f.append(
            finding(
                "HUB118",
                "config.yaml is ignored: the Hub reads only config.yml",
                file="config.yaml",
            )
        )
    classes, problems, files = discover(folder)
    f += problems
    if not classes:
        if not problems:
            f.append(
                finding(
                    "HUB100",
                    "no config.yml and no Executor class in root *.py or executor/*.py",
                    hint=_executors_below_hint(folder),
                )
            )
        return
    if len(classes) > 1:
        listed = ", ".join(f"{c.name} ({c.file}:{c.line})" for c in classes)
        f.append(
            finding(
                "HUB101",
                f"no config.yml and several Executor classes: {listed}; the Hub accepts one",
            )
        )
        return
    cls = classes[0]
    out.jtype = cls.name
    f.append(
        finding(
            "HUB102",
            f"no config.yml: the Hub generates one with `jtype: {cls.name}` from {cls.file}",
            file=cls.file,
            line=cls.line,
            col=cls.col,
            hint="add config.yml to set metas.name, arguments (`with:`) and py_modules yourself",
        )
    )
    f += _class_findings(cls)
    try:
        module_import_order(folder, files)
    except DependencyCycle as exc:
        first, second = exc.cycle[0], exc.cycle[1]
        line, col = import_location(folder, first, second) or (None, None)
        f.append(finding("HUB205", exc.message, file=first, line=line, col=col))


def _name(folder: Path, info: ConfigInfo, explicit: str | None, out: ConfigResult) -> None:
    """The name a push uses (:func:`resolve_name`, the one precedence) and what is wrong with it
    or with the names it wins over."""
    m_name, m_loc, m_problems = manifest_name(folder)
    out.findings.extend(m_problems)
    name, source = resolve_name(folder, explicit, info=info, class_name=out.jtype)
    if m_loc is not None and (m_name is None or not rules.EXECUTOR_NAME.match(m_name)):
        # The official client takes the name from metas.name first and reads manifest.yml's
        # only without one (it never reads `alias`): a display name there ("Simple Indexer",
        # next to an alias) is what published executors have, and matters only when a push
        # would send it.
        if source == "manifest.yml":
            shown = repr(m_name) if m_name else "empty"
            out.findings.append(
                finding(
                    "HUB112",
                    f"`name` in {MANIFEST_FILE} is not a valid executor name: {shown}",
                    file=MANIFEST_FILE,
                    line=m_loc.line,
                    col=m_loc.col,
                )
            )
        m_name = None
    if source == "--name":
        out.name = explicit
        if explicit is not None and not rules.EXECUTOR_NAME.match(explicit):
            out.findings.append(
                finding("HUB112", f"--name {explicit!r} is not a valid executor name")
            )
        return
    if source == "metas.name":
        out.name = name
        if m_name is not None and m_loc is not None and m_name != name:
            out.findings.append(
                finding(
                    "HUB119",
                    f"{MANIFEST_FILE} names the executor {m_name!r} but metas.name is "
                    f"{name!r}: the push uses {name!r}, and the Hub's "
                    f"normalizer then writes {m_name!r} into config.yml",
                    file=MANIFEST_FILE,
                    line=m_loc.line,
                    col=m_loc.col,
                )
            )
        return
    if name is None or source == "none":
        return
    out.name = name
    said = f"`name` from {MANIFEST_FILE}" if source == "manifest.yml" else "the jtype"
    out.findings.append(
        finding(
            "HUB113",
            f"metas.name is not set: a push uses the name {out.name!r} ({said})",
            file=CONFIG_FILE if info.exists else None,
            hint="set `metas.name` in config.yml or pass --name to choose the name",
        )
    )


def check_config_and_python(
    folder: Path, *, name: str | None = None, bundled: Collection[str] | None = None
) -> ConfigResult:
    """config (HUB1xx) and python (HUB2xx) findings, plus the jtype and the push name."""
    out = ConfigResult()
    info = load_config(folder)
    if info.exists:
        _with_config(folder, info, bundled, out)
    else:
        _without_config(folder, out)
    _name(folder, info, name, out)
    return out
