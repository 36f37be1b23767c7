"""``hubci push PATH``: validate, bundle, upload and follow the build to its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hubci import rules
from hubci.commands.hub_options import hub_options, result_format_option
from hubci.push.plan import DEFAULT_TIMEOUT, PushOptions, resolve_plan
from hubci.tags.options import TagOptions, tag_rule_options


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "-t", "--tag", "tags", multiple=True, metavar="TAG", help="Tag the build (repeatable)."
)
@click.option(
    "--protected-tag",
    "protected_tags",
    multiple=True,
    metavar="TAG",
    help="Tag that can never be pushed again (repeatable).",
)
@tag_rule_options
@click.option("--platform", metavar="P1,P2", help="Build platforms, e.g. linux/amd64,linux/arm64.")
@click.option(
    "--build-env",
    "build_env",
    multiple=True,
    metavar="KEY=VALUE|KEY",
    help="Build env for requirements.txt; KEY alone takes $KEY (repeatable).",
)
@click.option("-f", "--dockerfile", metavar="FILE", help="Dockerfile inside PATH to build with.")
@click.option("--public", is_flag=True, help="Make the executor public.")
@click.option("--private", is_flag=True, help="Make the executor private.")
@click.option(
    "--force-update",
    "--force",
    "force_update",
    metavar="NAME_OR_ID",
    help="Update an executor by NAME or ID with its --secret (legacy).",
)
@click.option(
    "--secret", metavar="SECRET", help="Executor secret for --force-update (or HUBCI_SECRET)."
)
@click.option("--no-cache", is_flag=True, help="Build without the Docker layer cache.")
@click.option(
    "--verbose", is_flag=True, help="Show the build's console lines (and files in --dry-run)."
)
@click.option(
    "--name", metavar="NAME", help="Executor name (default: metas.name, manifest.yml, jtype)."
)
@hub_options
@click.option("--dry-run", is_flag=True, help="Validate and bundle, print the plan, send nothing.")
@click.option("--no-wait", is_flag=True, help="Return after the upload with the task id.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up waiting for the build after SECONDS (0: never).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1, max=32),
    default=rules.DEFAULT_PARALLEL_PUSHES,
    show_default=True,
    help="With several folders: how many are pushed at the same time.",
)
@result_format_option
def push(
    paths: tuple[str, ...],
    tags: tuple[str, ...],
    protected_tags: tuple[str, ...],
    platform: str | None,
    build_env: tuple[str, ...],
    dockerfile: str | None,
    public: bool,
    private: bool,
    force_update: str | None,
    secret: str | None,
    no_cache: bool,
    verbose: bool,
    name: str | None,
    hub: str | None,
    hub_url: str | None,
    token: str | None,
    dry_run: bool,
    no_wait: bool,
    timeout: float,
    output: str,
    jobs: int,
    **tag_kwargs: Any,
) -> int:
    """Push the executor folder PATH to a Hub and follow its build to the end.

    Several folders, or glob patterns (quoted, e.g. 'executors/*'), are validated first and then
    pushed --jobs at a time, with a summary table at the end.

    Exit codes: 0 succeeded (or submitted with --no-wait, or a dry run), 1 build failed or the
    normalizer rejected the bundle, 2 usage or validation error, 3 Hub or network error,
    4 timed out waiting, 130 interrupted.
    """
    from hubci.errors import UsageError
    from hubci.output.console import Console
    from hubci.push.render import TextReporter, json_on_error, plan_json, plan_summary, result_tone
    from hubci.push.run import run_push

    if public and private:
        raise UsageError("--public and --private exclude each other", "pass only one of them")
    options = PushOptions(
        path=Path(paths[0]),
        tags=tags,
        protected_tags=protected_tags,
        platform=platform,
        build_env=build_env,
        dockerfile=dockerfile,
        visibility="public" if public else "private" if private else None,
        force_update=force_update,
        secret=secret,
        no_cache=no_cache,
        verbose=verbose,
        name=name,
        hub=hub,
        hub_url=hub_url,
        token=token,
        dry_run=dry_run,
        wait=not no_wait,
        timeout=timeout,
        output="json" if output == "json" else "text",
        tag_rules=TagOptions.pop_from(tag_kwargs),
    )
    from hubci.push.many import is_single

    if not is_single(paths):
        return _push_many(options, paths, jobs)
    plan = resolve_plan(options)
    console = Console()
    reporter = TextReporter(verbose=verbose)
    for warning in plan.tag_warnings:
        reporter.line(f"warning: {warning}")
    with json_on_error(plan.output):
        result = run_push(plan, reporter)
    if result.status == "dry-run":
        assert result.bundle is not None
        bundle = result.bundle.to_json()
        if plan.output == "json":
            console.json(plan_json(plan, bundle, result.files))
        else:
            console.out(plan_summary(plan, bundle, result.files))
        return 0
    from hubci.push.render import result_text

    if plan.output == "json":
        console.json(result.to_json())
    else:
        console.out(result_text(result), tone=result_tone(result.status))
    if result.exit_code and result.error and plan.output == "json":
        console.err(f"hubci: error: {result.error}")
    return result.exit_code


def _push_many(options: PushOptions, paths: tuple[str, ...], jobs: int) -> int:
    from hubci.output.console import Console
    from hubci.push.many import outcomes_json, run_many
    from hubci.push.multi import summary_table

    outcomes, code = run_many(options, paths, jobs)
    if options.output == "json":
        Console().json(outcomes_json(outcomes, code))
    else:
        Console().out(summary_table(outcomes))
    return code
