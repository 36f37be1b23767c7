"""``hubci validate``: check executor folders offline, before a slow upload and cloud build.

Also the pre-commit hook: pre-commit passes file names, each is mapped to its executor folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from hubci import rules
from hubci.validate.report import FORMATS, Format

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)\s*$", re.IGNORECASE)
_UNITS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}


def parse_size(value: str | int) -> int:
    """``500000``, ``200MB``, ``1.5GiB``, ``2G`` (K/M/G/T and KiB/MiB/... are powers of 1024,
    KB/MB/GB/TB powers of 1000); raises ValueError with the fix."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if not match:
        msg = f"{value!r} is not a size; write e.g. 500MiB, 2GB or 1000000"
        raise ValueError(msg)
    number, unit, suffix = match.groups()
    base = 1000 if suffix.upper() == "B" and unit else 1024
    size = int(float(number) * base ** _UNITS[unit.upper()])
    if size <= 0:
        msg = "the size must be positive"
        raise ValueError(msg)
    return size


def _size_option(ctx: click.Context, param: click.Parameter, value: str | int) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH...",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format [default: github when GITHUB_ACTIONS=true, else text].",
)
@click.option(
    "--dockerfile",
    metavar="FILE",
    help="The Dockerfile a push will build, relative to the executor folder "
    "[default: Dockerfile if present, else the Hub generates one].",
)
@click.option(
    "--build-env",
    "build_env",
    multiple=True,
    metavar="KEY[=VALUE]",
    help="A build-env variable a push will provide (repeatable): KEY=VALUE, or KEY alone for "
    "the value of $KEY; here the value may be unknown. Never printed.",
)
@click.option("--name", metavar="NAME", help="The executor name a push will use.")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "-r",
    "--recursive",
    is_flag=True,
    help="A PATH folder that is no executor (a monorepo root) stands for the executor folders "
    "below it.",
)
@click.option(
    "--max-bundle-size",
    metavar="SIZE",
    type=str,
    default=str(rules.DEFAULT_MAX_BUNDLE_BYTES),
    callback=_size_option,
    help="Largest bundle allowed, e.g. 500MiB or 2GB  [default: 1GiB].",
)
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=rules.DEFAULT_MAX_BUNDLE_FILES,
    show_default=True,
    help="Most files a bundle may hold.",
)
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: Format | None,
    dockerfile: str | None,
    build_env: tuple[str, ...],
    name: str | None,
    strict: bool,
    recursive: bool,
    max_bundle_size: int,
    max_files: int,
) -> None:
    """Check executor folders offline for everything the Hub would reject.

    Each PATH is an executor folder or a file inside one (as pre-commit passes them): a file
    belongs to its nearest folder holding config.yml. A folder means that folder, as for a push;
    with -r, one that is no executor itself (a monorepo root) stands for the executor folders
    below it. Exit 0 when no errors were found, 1 otherwise (also for warnings with --strict),
    2 for usage errors.
    """
    from hubci.buildenv import parse_items
    from hubci.output.console import Console
    from hubci.validate import folders_to_validate, validate_folder
    from hubci.validate.report import all_ok, render

    console = Console()
    if fmt is None:
        # hubci.output.commands.is_github_actions, without importing that module
        fmt = "github" if os.environ.get("GITHUB_ACTIONS", "").lower() == "true" else "text"
    folders = folders_to_validate(paths, recursive=recursive)
    if not folders:
        if fmt == "json":  # still exactly one JSON document
            console.emit(render([], "json"))
        else:
            console.out("hubci validate: no executor folder among the given paths")
        return
    reports = [
        validate_folder(
            folder,
            dockerfile=dockerfile,
            build_env=parse_items(build_env, os.environ) if build_env else None,
            name=name,
            max_bytes=max_bundle_size,
            max_files=max_files,
        )
        for folder in folders
    ]
    console.emit(render(reports, fmt, strict=strict, workspace=os.environ.get("GITHUB_WORKSPACE")))
    ctx.exit(0 if all_ok(reports, strict=strict) else 1)
