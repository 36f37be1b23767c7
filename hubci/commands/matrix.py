"""``hubci matrix [ROOT]``: the executors under ROOT (or those changed) as a job matrix."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hubci.errors import ConfigError, UsageError


@click.command()
@click.argument("root", required=False, default=".", type=click.Path(path_type=Path))
@click.option(
    "--changed-since",
    metavar="REF",
    help="Only executors whose bundle changed since the merge base of REF and HEAD "
    "(work tree included). Empty: every executor.",
)
@click.option(
    "--always",
    multiple=True,
    metavar="PATTERN",
    help="A change to a path matching PATTERN (gitignore syntax, relative to the repository "
    "top) selects every executor (repeatable).",
)
@click.option(
    "--platform",
    "--platforms",  # the old spelling, still accepted
    "platforms",
    metavar="P1,P2",
    default="",
    help="Platforms for every entry, e.g. linux/amd64,linux/arm64, as for push (empty: the "
    "Hub's default).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["json", "github"]),
    default=None,
    help="json prints the matrix; github also writes the matrix, count and removed outputs to "
    "$GITHUB_OUTPUT (default when GITHUB_ACTIONS=true).",
)
def matrix(
    root: Path,
    changed_since: str | None,
    always: tuple[str, ...],
    platforms: str,
    output: str | None,
) -> int:
    """Print the executors under ROOT as a GitHub Actions matrix: {"include": [...]}.

    Paths are relative to the git repository's top level (to ROOT outside a repository).
    Notes, warnings and an empty matrix are reported on stderr; the exit code is 0 unless an
    option is wrong (2).
    """
    from hubci import rules
    from hubci.matrix.plan import MatrixRequest, build_matrix
    from hubci.matrix.render import notes, write_github
    from hubci.output.commands import is_github_actions
    from hubci.output.console import Console
    from hubci.output.reporter import Reporter

    console = Console()
    in_actions = is_github_actions(os.environ)
    fmt = output or ("github" if in_actions else "json")
    output_file = os.environ.get("GITHUB_OUTPUT", "")
    if fmt == "github" and not output_file:
        raise UsageError(
            "--format github needs $GITHUB_OUTPUT (the file GitHub Actions reads outputs from)",
            hint="run it in a GitHub Actions step, or use --format json",
        )
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise UsageError(f"{root} {what}", hint="pass the folder holding the executors")
    try:
        platform_list = rules.parse_platforms(platforms)
    except ValueError as exc:
        raise UsageError(f"--platform: {exc}") from exc

    request = MatrixRequest(
        root=root,
        changed_since=changed_since,
        always=always,
        platforms=tuple(platform_list),
    )
    result = build_matrix(request)
    shown_root = str(root)
    info, warnings = notes(result, shown_root)
    reporter = Reporter(github=fmt == "github")
    for line in warnings:
        reporter.warning(line, title="hubci matrix")
    for line in info:
        reporter.line(f"hubci: {line}" if not line.startswith(" ") else line)
    if fmt == "github":  # outputs first: a step that cannot write them prints no matrix
        summary = os.environ.get("GITHUB_STEP_SUMMARY", "")
        try:
            write_github(result, shown_root, Path(output_file), Path(summary) if summary else None)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the step outputs to {exc.filename or output_file}: "
                f"{exc.strerror or exc}",
                hint="check $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY, or use --format json",
            ) from exc
    console.json(result.to_json(), compact=True)
    return 0
