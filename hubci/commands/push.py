"""``hubci push PATH``: validate, bundle, upload and follow the build to its end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubci import rules
from hubci.commands.hub_options import hub_options, result_format_option
from hubci.push.plan import DEFAULT_TIMEOUT, PushOptions, PushPlan, resolve_plan
from hubci.tags.options import TagOptions, tag_rule_options

if TYPE_CHECKING:
    from hubci.push.result import PushResult


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
@click.option(
    "--no-cache", is_flag=True, help="Build without the Docker layer cache (implies --force-build)."
)
@click.option(
    "--skip-unchanged",
    type=click.Choice(rules.SKIP_UNCHANGED),
    default="auto",
    show_default=True,
    help="Skip the upload when every tag already points at a build of the same bundle and "
    "parameters; auto: not with build envs (their values cannot be compared); always: even "
    "then; never: as --force-build.",
)
@click.option("--force-build", is_flag=True, help="Upload and build even when unchanged.")
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
def push(paths: tuple[str, ...], jobs: int, **params: Any) -> int:
    """Push the executor folder PATH to a Hub and follow its build to the end.

    Several folders, or glob patterns (quoted, e.g. 'executors/*'), are validated first and then
    pushed --jobs at a time, with a summary table at the end.

    A push whose tags all point at a build of the same bundle and parameters already uploads
    nothing and ends `unchanged` (exit 0); --force-build pushes anyway.

    Exit codes: 0 succeeded (or unchanged, submitted with --no-wait, or a dry run), 1 build
    failed or the normalizer rejected the bundle, 2 usage or validation error, 3 Hub or network
    error, 4 timed out waiting, 130 interrupted.
    """
    from hubci.push.many import is_single
    from hubci.push.render import TextReporter, json_on_error
    from hubci.push.run import run_push

    options = push_options(Path(paths[0]), params)
    if not is_single(paths):
        return _push_many(options, paths, jobs)
    plan = resolve_plan(options)
    reporter = TextReporter(verbose=plan.verbose)
    for warning in plan.tag_warnings:
        reporter.line(f"warning: {warning}")
    with json_on_error(plan.output):
        result = run_push(plan, reporter)
    return _render(plan, result)


def push_options(path: Path, params: dict[str, Any]) -> PushOptions:
    """The options record from what click parsed (the tag-rule options included)."""
    from hubci.errors import UsageError

    if params["public"] and params["private"]:
        raise UsageError("--public and --private exclude each other", "pass only one of them")
    visibility: rules.Visibility | None = (
        "public" if params["public"] else "private" if params["private"] else None
    )
    return PushOptions(
        path=path,
        tags=params["tags"],
        protected_tags=params["protected_tags"],
        platform=params["platform"],
        build_env=params["build_env"],
        dockerfile=params["dockerfile"],
        visibility=visibility,
        force_update=params["force_update"],
        secret=params["secret"],
        no_cache=params["no_cache"],
        skip_unchanged=params["skip_unchanged"],
        force_build=params["force_build"],
        verbose=params["verbose"],
        name=params["name"],
        hub=params["hub"],
        hub_url=params["hub_url"],
        token=params["token"],
        dry_run=params["dry_run"],
        wait=not params["no_wait"],
        timeout=params["timeout"],
        output="json" if params["output"] == "json" else "text",
        tag_rules=TagOptions.pop_from(params),
    )


def _render(plan: PushPlan, result: PushResult) -> int:
    """The result on stdout (the plan for a dry run); the exit code that says how it ended."""
    from hubci.output.console import Console
    from hubci.push.render import plan_json, plan_summary, result_text, result_tone

    console = Console()
    if result.status == "dry-run":
        assert result.bundle is not None
        bundle = result.bundle.to_json()
        if plan.output == "json":
            console.json(plan_json(plan, bundle, result.files))
        else:
            console.out(plan_summary(plan, bundle, result.files))
        return 0
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
