"""What the Hub's normalizer does to an uploaded bundle, in place (docs/protocol.md#the-normalizer).

:func:`normalize` discovers the Executor class (by parsing, through ``hubci.validate``), writes
``config.yml`` when the bundle has none, merges ``manifest.yml`` and ``pyproject.toml``, and
writes a Dockerfile when there is none, failing with the normalizer's codes (4000-4003, 5000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from hubci.normalize.errors import (
    BROKEN_DEPENDENCY,
    EXECUTOR_EXISTS,
    EXECUTOR_NOT_FOUND,
    ILLEGAL_EXECUTOR,
    OTHERS,
    NormalizeError,
)

__all__ = ["NormalizeError", "NormalizeResult", "normalize"]

MANIFEST_KEYS = ("name", "description", "url", "keywords")
NOT_FOUND = (
    "We can not discover any Executor in your bundle: either no valid Executor class is "
    "found, or the jtype in config.yml does not match the class name"
)


@dataclass
class NormalizeResult:
    executor: str  # the Executor class name
    config_generated: bool
    dockerfile: str  # relative path of the Dockerfile the Hub builds
    dockerfile_generated: bool
    warnings: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise NormalizeError(OTHERS, f"{path.name}: {exc}") from exc


def _manifest(folder: Path) -> dict[str, Any]:
    text = _read(folder / "manifest.yml")
    if text is None:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NormalizeError(OTHERS, f"manifest.yml: {exc}") from exc
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in MANIFEST_KEYS if data.get(k) is not None}


def _syntax_problem(findings: Sequence[Any]) -> str | None:
    for f in findings:
        if f.severity.value == "error":
            where = f"{f.file}:{f.line}: " if f.file and f.line else ""
            return f"{where}{f.message}"
    return None


def _with_config(folder: Path) -> tuple[Any, bool]:
    from hubci.executor.classes import find_jtype_class
    from hubci.executor.config import load_config

    info = load_config(folder)
    if not info.parsed:
        reason = _syntax_problem(info.findings) or "config.yml is not a mapping"
        raise NormalizeError(OTHERS, reason)
    data = info.data or {}
    if "jtype" not in data:
        raise NormalizeError(OTHERS, "'jtype' is missing in config.yml")
    if not info.jtype:
        raise NormalizeError(OTHERS, "Not found jtype in config.yml")
    if info.py_modules_where == "both":
        msg = "The parameter py_modules can only be appear in one of metas and root in config.yml"
        raise NormalizeError(OTHERS, msg)
    if not info.py_modules:
        raise NormalizeError(EXECUTOR_NOT_FOUND, f"{NOT_FOUND} (config.yml lists no py_modules)")
    cls, findings = find_jtype_class(folder, info.py_modules, info.jtype)
    problem = _syntax_problem(findings)
    if problem:
        raise NormalizeError(OTHERS, problem)
    if cls is None:
        raise NormalizeError(EXECUTOR_NOT_FOUND, f"{NOT_FOUND} (jtype: {info.jtype})")
    return cls, False


def _without_config(folder: Path) -> tuple[Any, bool]:
    from hubci.executor.classes import DependencyCycle, discover, module_import_order

    classes, findings, files = discover(folder)
    problem = _syntax_problem(findings)
    if problem:
        raise NormalizeError(OTHERS, problem)
    if not classes:
        raise NormalizeError(EXECUTOR_NOT_FOUND, NOT_FOUND)
    if len(classes) > 1:
        names = ", ".join(sorted(f"{c.name} ({c.file})" for c in classes))
        msg = f"We found more than one Executor in the bundle ({names}); the Hub allows one"
        raise NormalizeError(EXECUTOR_EXISTS, msg)
    cls = classes[0]
    try:
        order = module_import_order(folder, files)
    except DependencyCycle as exc:
        raise NormalizeError(BROKEN_DEPENDENCY, exc.format_message()) from exc
    config = {"jtype": cls.name, "metas": {"py_modules": order}}
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return cls, True


def _merge_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """manifest.yml's name/description/url/keywords override config.yml metas."""
    path = folder / "config.yml"
    text = _read(path) or ""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # a Jina-tagged config.yml is kept as written
    if not isinstance(data, dict):
        return
    metas = data.get("metas")
    data["metas"] = {**(metas if isinstance(metas, dict) else {}), **manifest}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _dockerfile(
    folder: Path,
    dockerfile: str | None,
    jina_version: str | None,
    python_version: str | None,
    build_env: Sequence[str],
) -> tuple[str, bool]:
    from hubci.dockerfile import DockerfileSyntaxError, parse_dockerfile
    from hubci.normalize import dockerfile as gen

    rel = PurePosixPath(dockerfile).as_posix() if dockerfile else "Dockerfile"
    text = _read(folder / rel)
    generated = text is None
    if text is None:
        if dockerfile:
            msg = f"The Dockerfile {rel!r} is not in the bundle (is it ignored by .gitignore?)"
            raise NormalizeError(OTHERS, msg)
        text = gen.generated_dockerfile(
            jina_version=jina_version,
            python_version=python_version,
            requirements=_read(folder / "requirements.txt"),
            build_env=build_env,
        )
        (folder / rel).write_text(text, encoding="utf-8")
    try:
        instructions = parse_dockerfile(text)
    except DockerfileSyntaxError as exc:
        raise NormalizeError(OTHERS, f"{rel}: {exc.format_message()}") from exc
    wrapper = gen.wrapper_dockerfile(jina_version, gen.entrypoint_of(instructions))
    (folder / gen.WRAPPER).write_text(wrapper, encoding="utf-8")
    return rel, generated


#: What the normalizer (and the local Hub's check builder) may open besides a named Dockerfile:
#: code, configuration and requirements. Any other file is only listed and sized.
_READ_SUFFIXES = (".py", ".yml", ".yaml", ".toml", ".txt", ".cfg", ".ini", ".json")


def may_read(relpath: str, dockerfile: str | None = None) -> bool:
    """Whether normalizing (or checking the build of) a bundle may read this file's content."""
    name = relpath.rsplit("/", 1)[-1]
    return (
        relpath == dockerfile
        or name.endswith(_READ_SUFFIXES)
        or "dockerfile" in name.lower()
        or name == ".dockerignore"
    )


def normalize(
    folder: Path,
    *,
    dockerfile: str | None = None,
    jina_version: str | None = None,
    python_version: str | None = None,
    build_env: Sequence[str] = (),
) -> NormalizeResult:
    """Normalize the extracted bundle in ``folder`` like the Hub; raise NormalizeError."""
    from hubci.normalize.model import executor_model
    from hubci.normalize.pyproject import merge_pyproject

    warnings: list[str] = []
    try:
        manifest = _manifest(folder)
        if (folder / "config.yml").is_file():
            cls, config_generated = _with_config(folder)
        else:
            cls, config_generated = _without_config(folder)
        if not cls.legal_init:
            msg = (
                f"The uploaded Executor {cls.name} is illegal: its __init__ must take at least "
                "one parameter without a default"
            )
            raise NormalizeError(ILLEGAL_EXECUTOR, msg)
        if manifest:
            _merge_manifest(folder, manifest)
        warning = merge_pyproject(folder)
        if warning:
            warnings.append(warning)
        model = executor_model(folder, cls)
        rel, generated = _dockerfile(folder, dockerfile, jina_version, python_version, build_env)
    except NormalizeError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        raise NormalizeError(OTHERS, f"{type(exc).__name__}: {exc}") from exc
    if not (folder / "README.md").is_file():
        warnings.append("README.md not found in the bundle")
    if config_generated:
        warnings.append(f"config.yml was not found; generated one with jtype: {cls.name}")
    if generated:
        warnings.append("Dockerfile was not found; generated one from the jina base image")
    return NormalizeResult(
        executor=cls.name,
        config_generated=config_generated,
        dockerfile=rel,
        dockerfile_generated=generated,
        warnings=warnings,
        model=model,
    )
