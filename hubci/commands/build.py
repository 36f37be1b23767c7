"""``hubci build``: build the executor's image per platform with a Docker Engine, like the Hub."""

from __future__ import annotations

from pathlib import Path

import click

from hubci import rules
from hubci.errors import HubciError
from hubci.image.render import BuildReporter, Format


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path())
@click.option(
    "--platform",
    metavar="LIST",
    help="Comma-separated platforms to build, e.g. linux/amd64,linux/arm64 [linux/amd64].",
)
@click.option(
    "--build-env",
    "build_env",
    multiple=True,
    metavar="K=V",
    help="A build env, passed as a build arg (repeatable; K alone reads $K).",
)
@click.option("--dockerfile", metavar="F", help="The Dockerfile to build, inside PATH.")
@click.option("--no-cache", is_flag=True, help="Build without the Engine's layer cache.")
@click.option("--keep", is_flag=True, help="Keep the images (removed by default).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(rules.RESULT_FORMATS),
    default="text",
    show_default=True,
    help="json: one document on stdout; the build log goes to stderr.",
)
def build(
    path: Path,
    platform: str | None,
    build_env: tuple[str, ...],
    dockerfile: str | None,
    no_cache: bool,
    keep: bool,
    fmt: Format,
) -> None:
    """Build PATH's image with the Docker Engine at DOCKER_HOST, exactly as the Hub would.

    Validates, normalizes like the Hub (the executor's Dockerfile or the generated one), builds
    each platform and streams the log. Exit 0 when every platform built, 1 when one failed,
    2 for validation or usage errors, 3 when no Docker Engine is reachable.
    """
    from hubci.image.run import BuildPlan, run_build

    plan = BuildPlan.from_options(
        path,
        platform=platform,
        build_env=build_env,
        dockerfile=dockerfile,
        no_cache=no_cache,
        keep=keep,
    )
    reporter = BuildReporter(fmt, multi=len(plan.platforms) > 1)
    try:
        run_build(plan, reporter)
    except HubciError:
        reporter.stopped()
        raise
