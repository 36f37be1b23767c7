"""The tag plan: ``--tags`` and ``--protected-tags`` evaluated together, plus explicit ``-t`` tags.

:func:`compute_tags` is the entry point for other modules; it is pure (see
:mod:`hubci.tags.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from hubci import rules as hub_rules
from hubci.errors import UsageError
from hubci.tags.engine import Evaluation, evaluate
from hubci.tags.event import EventContext
from hubci.tags.rules import Flavor, TagRule, parse_flavor, parse_tag_rules

__all__ = ["RuleSet", "TagPlan", "compute_tags", "parse_rule_set", "plan_tags"]


@dataclass(frozen=True)
class TagPlan:
    """The tags to push. ``tags`` move with each push; ``protected_tags`` never change once set.

    A tag produced by both rule sets is only in ``protected_tags``. ``sources`` maps every tag to
    the rule (option and line) that produced it; ``latest`` says whether the automatic latest tag
    was added.
    """

    version: str | None
    tags: tuple[str, ...]
    protected_tags: tuple[str, ...]
    latest: bool
    sources: Mapping[str, str]
    warnings: tuple[str, ...] = ()

    @property
    def all_tags(self) -> tuple[str, ...]:
        return self.tags + self.protected_tags

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "tags": list(self.tags),
            "protected_tags": list(self.protected_tags),
            "latest": self.latest,
            "sources": dict(self.sources),
            "warnings": list(self.warnings),
        }

    def describe(self) -> list[str]:
        """One line per tag with the rule that produced it (``push --dry-run``, ``hubci tags``)."""
        width = max((len(tag) for tag in self.all_tags), default=0)
        lines = [f"{tag:<{width}}  from {self.sources.get(tag, '?')}" for tag in self.tags]
        lines += [
            f"{tag:<{width}}  from {self.sources.get(tag, '?')} [protected]"
            for tag in self.protected_tags
        ]
        return lines

    def with_explicit(
        self, tags: Sequence[str] = (), protected_tags: Sequence[str] = ()
    ) -> TagPlan:
        """Merge explicit ``-t`` / ``--protected-tag`` values (validated) after the rule tags."""
        for tag in (*tags, *protected_tags):
            if not hub_rules.TAG.match(tag):
                msg = f"invalid tag {tag!r}"
                hint = (
                    "a Hub tag is 1-64 letters, digits, '_', '.' or '-', "
                    "not starting with '.' or '-'"
                )
                raise UsageError(msg, hint)
        protected = list(self.protected_tags)
        sources = dict(self.sources)
        for tag in protected_tags:
            if tag not in protected:
                protected.append(tag)
                sources[tag] = "--protected-tag"
        movable = [t for t in self.tags if t not in protected]
        for tag in tags:
            if tag not in movable and tag not in protected:
                movable.append(tag)
                sources[tag] = "-t/--tag"
        version = self.version
        if version is None and (movable or protected):
            version = (movable or protected)[0]
        return replace(
            self,
            version=version,
            tags=tuple(movable),
            protected_tags=tuple(protected),
            sources={t: sources[t] for t in (*movable, *protected)},
        )


@dataclass(frozen=True)
class RuleSet:
    """Parsed ``--tags`` (defaults when empty), ``--flavor`` and ``--protected-tags``."""

    tags: tuple[TagRule, ...]
    flavor: Flavor
    protected: tuple[TagRule, ...] = ()


def parse_rule_set(
    tags_rules: str | None, flavor_rules: str | None, protected_rules: str | None = None
) -> RuleSet:
    """Parse and check all three texts; raises :class:`TagRuleError` naming the bad line."""
    flavor = parse_flavor(flavor_rules)
    rules = parse_tag_rules(tags_rules)
    protected = (
        parse_tag_rules(protected_rules, option="--protected-tags")
        if protected_rules and protected_rules.strip()
        else []
    )
    return RuleSet(tuple(rules), flavor, tuple(protected))


def plan_tags(rule_set: RuleSet, context: EventContext) -> TagPlan:
    """Evaluate a parsed :class:`RuleSet` against ``context``."""
    movable = evaluate(rule_set.tags, rule_set.flavor, context)
    protected = (
        evaluate(rule_set.protected, rule_set.flavor, context, automatic_latest=False)
        if rule_set.protected
        else Evaluation()
    )
    tags = tuple(t for t in movable.tags if t not in protected.tags)
    sources = {**movable.sources, **protected.sources}
    warnings = [*movable.warnings, *(w for w in protected.warnings if w not in movable.warnings)]
    if not tags and not protected.tags:
        warnings.append(
            f"no tag was generated for ref {context.ref or '(none)'!r} "
            f"and event {context.event_name or '(none)'!r}; check --tags"
        )
    return TagPlan(
        version=movable.version or protected.version,
        tags=tags,
        protected_tags=protected.tags,
        latest=movable.latest_tag is not None and movable.latest_tag in tags,
        sources={t: sources[t] for t in (*tags, *protected.tags)},
        warnings=tuple(warnings),
    )


def compute_tags(
    tags_rules: str | None,
    flavor_rules: str | None,
    protected_rules: str | None,
    context: EventContext,
) -> TagPlan:
    """Turn the ``--tags`` / ``--flavor`` / ``--protected-tags`` texts into a :class:`TagPlan`.

    All three are parsed before anything is evaluated. Without ``--tags`` lines the default rules
    apply. Protected rules use the same flavor but never add the automatic ``latest`` (a protected
    ``latest`` could never move again); a tag both rule sets produce is protected.
    """
    return plan_tags(parse_rule_set(tags_rules, flavor_rules, protected_rules), context)
