"""``hubci tags``: the Hub tags this event would push, from metadata-action style rules."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hubci import rules
from hubci.output.commands import is_github_actions
from hubci.output.console import Console
from hubci.output.reporter import Reporter
from hubci.tags.options import TagOptions, tag_rule_options


@click.command("tags")
@tag_rule_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(rules.RESULT_FORMATS),
    default="text",
    show_default=True,
    help="text: one tag per line (protected tags last); json: version, tags, context.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="With text: show the rule that produced each tag next to it.",
)
def tags(output_format: str, explain: bool, **kwargs: str | None) -> None:
    """Compute the Hub tags for the current event or git checkout.

    \b
    Examples:
      hubci tags --tags $'type=semver,pattern={{version}}\\ntype=semver,pattern={{major}}'
      hubci tags --ref refs/tags/v1.4.2 --protected-tags 'type=semver,pattern={{version}}'
    """
    options = TagOptions.pop_from(dict(kwargs))
    env = dict(os.environ)
    context, plan = options.resolve(env=env, cwd=Path.cwd())
    console = Console()
    reporter = Reporter(github=is_github_actions(env))
    warnings = [*context.warnings, *plan.warnings]
    for warning in warnings:
        reporter.warning(warning)
    if output_format == "json":
        document = {**plan.as_dict(), "warnings": warnings, "context": context.as_dict()}
        console.json(document, indent=2)
        return
    for line in plan.describe() if explain else plan.all_tags:
        console.out(line)
