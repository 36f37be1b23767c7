"""The ``--tags/--flavor/--protected-tags/--ref/--sha/--default-branch`` options, reusable.

``hubci tags`` and ``hubci push`` both apply :func:`tag_rule_options`; the command then takes its
values out of ``**kwargs`` with :meth:`TagOptions.pop_from` and calls :meth:`TagOptions.resolve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from hubci.tags.context import resolve_context
from hubci.tags.event import EventContext
from hubci.tags.plan import TagPlan, parse_rule_set, plan_tags

__all__ = ["TagOptions", "tag_rule_options"]

F = TypeVar("F", bound=Callable[..., Any])

_RULES_HELP = (
    "one rule per line (repeat the option or use newlines), as in docker/metadata-action; "
    "see docs/tags.md"
)


def _join_lines(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> str | None:
    return "\n".join(value) if value else None


def tag_rule_options(func: F) -> F:
    """Add the six tag options; their values arrive as ``tags_rules``, ``flavor_rules``,
    ``protected_rules`` (str | None, lines joined by newlines), ``ref``, ``sha``,
    ``default_branch`` (str | None)."""
    decorators = [
        click.option(
            "--tags",
            "tags_rules",
            metavar="RULES",
            multiple=True,
            callback=_join_lines,
            help=f"Tag rules, e.g. 'type=semver,pattern={{{{version}}}}': {_RULES_HELP}. "
            "Default: schedule, branch, tag and pull-request rules.",
        ),
        click.option(
            "--flavor",
            "flavor_rules",
            metavar="RULES",
            multiple=True,
            callback=_join_lines,
            help="Flavor lines: latest=auto|true|false, prefix=…, suffix=…, onlatest=true.",
        ),
        click.option(
            "--protected-tags",
            "protected_rules",
            metavar="RULES",
            multiple=True,
            callback=_join_lines,
            help=f"Rules for tags that can never move once pushed: {_RULES_HELP}.",
        ),
        click.option(
            "--ref",
            metavar="REF",
            help="Git ref to tag for (refs/tags/v1.2.3, refs/heads/main, refs/pull/7/merge, or "
            "a local tag/branch name). Default: GITHUB_REF in Actions, else the checkout.",
        ),
        click.option(
            "--sha",
            metavar="SHA",
            help="Commit sha for type=sha and {{sha}}. Default: GITHUB_SHA, else HEAD.",
        ),
        click.option(
            "--default-branch",
            metavar="NAME",
            help="The repository's default branch (type=edge, {{is_default_branch}}). "
            "Default: the event payload, else the git remote's HEAD.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@dataclass(frozen=True)
class TagOptions:
    tags_rules: str | None = None
    flavor_rules: str | None = None
    protected_rules: str | None = None
    ref: str | None = None
    sha: str | None = None
    default_branch: str | None = None

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> TagOptions:
        """Take the six option values out of a command's ``**kwargs``."""
        return cls(
            tags_rules=kwargs.pop("tags_rules", None),
            flavor_rules=kwargs.pop("flavor_rules", None),
            protected_rules=kwargs.pop("protected_rules", None),
            ref=kwargs.pop("ref", None),
            sha=kwargs.pop("sha", None),
            default_branch=kwargs.pop("default_branch", None),
        )

    @property
    def has_rules(self) -> bool:
        """True when any of --tags/--flavor/--protected-tags was given."""
        return any((self.tags_rules, self.flavor_rules, self.protected_rules))

    def context(
        self, *, env: Mapping[str, str], cwd: Path, now: datetime | None = None
    ) -> EventContext:
        return resolve_context(
            env=env,
            cwd=cwd,
            ref=self.ref,
            sha=self.sha,
            default_branch=self.default_branch,
            now=now,
        )

    def resolve(
        self, *, env: Mapping[str, str], cwd: Path, now: datetime | None = None
    ) -> tuple[EventContext, TagPlan]:
        """Parse the rules (a bad rule fails before any git call), resolve, compute."""
        rule_set = parse_rule_set(self.tags_rules, self.flavor_rules, self.protected_rules)
        context = self.context(env=env, cwd=cwd, now=now)
        return context, plan_tags(rule_set, context)
