"""``hubci status [PATH]``: follow a build task to its end; the exit code says how it ended."""

from __future__ import annotations

from pathlib import Path

import click

from hubci.commands.hub_options import hub_options, result_format_option
from hubci.push.plan import DEFAULT_TIMEOUT


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--id", "task_id", metavar="TASK", help="Task id (default: the newest build of PATH)."
)
@click.option("--name", metavar="NAME", help="Executor name instead of reading it from PATH.")
@click.option("--replay", is_flag=True, help="Show the task's history from its start.")
@click.option("--verbose", is_flag=True, help="Show the build's console lines.")
@hub_options
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up waiting after SECONDS (0: never).",
)
@result_format_option
def status(
    path: Path | None,
    task_id: str | None,
    name: str | None,
    replay: bool,
    verbose: bool,
    hub: str | None,
    hub_url: str | None,
    token: str | None,
    timeout: float,
    output: str,
) -> int:
    """Follow the build task of PATH (or --id TASK) until it ends.

    Exit codes: 0 succeeded, 1 failed, 2 usage error, 3 Hub or network error, 4 timed out,
    130 interrupted.
    """
    from hubci.output.console import Console
    from hubci.push.render import TextReporter, json_on_error, result_text, result_tone
    from hubci.push.status import StatusOptions, resolve_status, run_status

    options = StatusOptions(
        path=path,
        task_id=task_id,
        name=name,
        replay=replay,
        verbose=verbose,
        hub=hub,
        hub_url=hub_url,
        token=token,
        timeout=timeout,
        output="json" if output == "json" else "text",
    )
    plan = resolve_status(options)
    console = Console()
    reporter = TextReporter(verbose=verbose)
    with json_on_error(plan.output):
        result = run_status(plan, reporter)
    if plan.output == "json":
        console.json(result.to_json())
        if result.exit_code and result.error:
            console.err(f"hubci: error: {result.error}")
    else:
        console.out(result_text(result), tone=result_tone(result.status))
    return result.exit_code
