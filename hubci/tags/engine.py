"""The pure computation: event context + tag rules + flavor → ordered Hub tags (docs/tags.md).

No I/O and no clock: everything comes in through :class:`EventContext`. Where metadata-action
would produce a tag the Hub refuses (``hubci.rules.TAG``), the tag is fixed and a warning says so:
leading ``.``/``-`` are removed, longer tags are cut to the Hub's maximum, duplicates are dropped.
:mod:`hubci.tags.plan` combines the tag and protected-tag rule sets into a ``TagPlan``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from hubci.tags.datefmt import UnknownTimeZone, format_moment, in_zone
from hubci.tags.event import EventContext
from hubci.tags.rules import (
    Flavor,
    TagRule,
    sort_rules,
)
from hubci.tags.template import Helper, TemplateError, is_single_mustache, render
from hubci.tags.versions import parse_pep440, parse_semver

__all__ = ["HUB_TAG_MAX_LENGTH", "Evaluation", "evaluate", "hub_safe", "sanitize"]

#: The longest tag ``hubci.rules.TAG`` accepts.
HUB_TAG_MAX_LENGTH: Final = 64
_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")


def sanitize(value: str) -> str:
    """metadata-action's sanitising: every run of other characters becomes one ``-``."""
    return _UNSAFE.sub("-", value)


def hub_safe(tag: str) -> tuple[str, str | None]:
    """Make a sanitised tag fit the Hub's grammar; returns (tag or "", what was changed)."""
    fixed = tag.lstrip(".-")
    notes: list[str] = []
    if fixed != tag:
        notes.append("removed the leading '.'/'-' the Hub does not accept")
    if len(fixed) > HUB_TAG_MAX_LENGTH:
        fixed = fixed[:HUB_TAG_MAX_LENGTH]
        notes.append(f"cut to the Hub's {HUB_TAG_MAX_LENGTH}-character limit")
    return fixed, "; ".join(notes) or None


@dataclass(frozen=True)
class Evaluation:
    """The result of one rule set: main, partials, latest, where each came from, warnings."""

    tags: tuple[str, ...] = ()
    version: str | None = None
    latest_tag: str | None = None  # the automatic latest tag, when it was added
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class _Evaluator:
    def __init__(self, ctx: EventContext, flavor: Flavor) -> None:
        self.ctx = ctx
        self.flavor = flavor
        self.warnings: list[str] = []
        self.scope: dict[str, object] = {
            "branch": self._bare(lambda: ctx.branch),
            "tag": self._bare(lambda: ctx.tag),
            "sha": self._bare(lambda: ctx.short_sha),
            "base_ref": self._bare(self._base_ref),
            "is_default_branch": self._bare(lambda: _bool(ctx.is_default_branch)),
            "is_not_default_branch": self._bare(lambda: _bool(not ctx.is_default_branch)),
            "date": _date_helper("date", ctx.now),
            "commit_date": _date_helper("commit_date", ctx.commit_date, self._unknown_date),
        }
        self.date_scope = {key: self.scope[key] for key in ("date", "commit_date")}

    def _unknown_date(self) -> None:
        """``{{commit_date}}`` was used but the commit's date is unknown: say so, once."""
        if self.ctx.commit_date_known:
            return
        sha = self.ctx.sha[:12] or "?"
        warning = (
            f"{{{{commit_date}}}}: the date of commit {sha} is unknown (no event date and no "
            "readable git clone), so the current time is used"
        )
        if warning not in self.warnings:
            self.warnings.append(warning)

    @staticmethod
    def _bare(fn: Callable[[], str]) -> Helper:
        def helper(_params: Sequence[object], _hash: Mapping[str, object]) -> str:
            return fn()

        return helper

    def _base_ref(self) -> str:
        ctx = self.ctx
        if ctx.is_tag and ctx.base_ref is not None:
            return ctx.base_ref.removeprefix("refs/heads/")
        if ctx.is_pr and ctx.pr_base_ref is not None:
            return ctx.pr_base_ref
        return ""

    def render(
        self, template: str, rule: TagRule, scope: Mapping[str, object] | None = None
    ) -> str:
        try:
            return render(template, self.scope if scope is None else scope)
        except TemplateError as exc:
            raise rule.error(str(exc)) from exc
        except UnknownTimeZone as exc:
            hint = "use an IANA zone name such as Europe/Paris or UTC"
            raise rule.error(f"unknown time zone {exc}", hint) from exc

    def decorate(self, value: str, rule: TagRule) -> str:
        if rule.has("prefix"):
            value = self.render(rule.get("prefix"), rule) + value
        elif self.flavor.prefix:
            value = self.render(self.flavor.prefix, rule) + value
        if rule.has("suffix"):
            value += self.render(rule.get("suffix"), rule)
        elif self.flavor.suffix:
            value += self.render(self.flavor.suffix, rule)
        return value

    def produce(self, rule: TagRule) -> tuple[str, bool] | None:
        """(undecorated value, latest under ``latest=auto``) or None when the rule does not fire."""
        ctx = self.ctx
        kind = rule.type
        if kind == "schedule":
            if "schedule" not in ctx.event_name:
                return None
            return self.render(rule.get("pattern"), rule, self.date_scope), False
        if kind in ("semver", "pep440", "match"):
            if not ctx.is_tag and not rule.get("value"):
                return None
            source = self.render(rule.get("value"), rule) if rule.get("value") else ctx.tag
            if kind == "match":
                return self._match(rule, source)
            return self._version(rule, source)
        if kind == "edge":
            if not ctx.is_branch:
                return None
            branch = rule.get("branch") or ctx.repo_default_branch
            if branch is None:
                self.warnings.append(
                    f"{rule.where()}: the repository's default branch is unknown "
                    "(pass --default-branch or add branch=<name>)"
                )
                return None
            return ("edge", False) if branch == ctx.branch else None
        if kind == "ref":
            event = rule.get("event")
            if event == "branch":
                return (ctx.branch, False) if ctx.is_branch else None
            if event == "tag":
                return (ctx.tag, True) if ctx.is_tag else None
            return (ctx.pr, False) if ctx.is_pr else None
        if kind == "raw":
            return self.render(rule.get("value"), rule), False
        # sha
        if not ctx.sha:
            return None
        return (ctx.short_sha if rule.get("format") == "short" else ctx.sha), False

    def _version(self, rule: TagRule, source: str) -> tuple[str, bool] | None:
        if rule.regex is not None:
            found = rule.regex.search(source)
            if found is None:
                self.warnings.append(
                    f"{rule.where()}: match {rule.get('match')!r} did not match {source!r}; "
                    "using it unchanged"
                )
            elif rule.regex.groups < 1 or found.group(1) is None:
                self.warnings.append(
                    f"{rule.where()}: match {rule.get('match')!r} has no capture group 1"
                )
                return None
            else:
                source = found.group(1)
        source = source.replace("/", "-")
        pattern = rule.get("pattern")
        if rule.type == "semver":
            semver = parse_semver(source)
            if semver is None:
                self.warnings.append(f"{rule.where()}: {source!r} is not a valid semver")
                return None
            if semver.is_prerelease:
                template = pattern if is_single_mustache(pattern, "raw") else "{{version}}"
                return self.render(template, rule, semver.fields()), False
            return self.render(pattern, rule, semver.fields()), True
        pep = parse_pep440(source)
        if pep is None:
            self.warnings.append(f"{rule.where()}: {source!r} does not conform to PEP 440")
            return None
        if pep.is_pre_post_or_dev:
            return (source if is_single_mustache(pattern, "raw") else pep.version), False
        return self.render(pattern, rule, pep.fields()), True

    def _match(self, rule: TagRule, source: str) -> tuple[str, bool] | None:
        assert rule.regex is not None  # parse_rule compiles every match pattern
        group = int(rule.get("group"))
        if rule.regex_global:
            matches = [m.group(0) for m in rule.regex.finditer(source)]
            if rule.regex_sticky:
                matches = matches[:1] if rule.regex.match(source) else []
            groups: list[str | None] = list(matches)
        else:
            found = (rule.regex.match if rule.regex_sticky else rule.regex.search)(source)
            groups = [found.group(0), *found.groups()] if found else []
        if not groups:
            self.warnings.append(f"{rule.where()}: pattern does not match {source!r}")
            return None
        if group >= len(groups) or groups[group] is None:
            self.warnings.append(f"{rule.where()}: group {group} does not exist in the match")
            return None
        return groups[group] or "", True


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _date_helper(name: str, moment: datetime, on_use: Callable[[], None] | None = None) -> Helper:
    def helper(params: Sequence[object], hash_args: Mapping[str, object]) -> str:
        if on_use is not None:
            on_use()
        if len(params) != 1:
            msg = f"{{{{{name}}}}} needs one format argument, e.g. {{{{{name} 'YYYYMMDD'}}}}"
            raise TemplateError(msg)
        fmt = params[0]
        if fmt is not None and not isinstance(fmt, str):
            msg = f"the format of {{{{{name}}}}} must be a quoted string, e.g. 'YYYYMMDD'"
            raise TemplateError(msg)
        tz = "UTC"
        for key, value in hash_args.items():
            if key != "tz":
                msg = f"Unknown {key} attribute"
                raise TemplateError(msg)
            if not isinstance(value, str):
                msg = f"tz of {{{{{name}}}}} must be a quoted zone name, e.g. tz='Asia/Tokyo'"
                raise TemplateError(msg)
            tz = value
        return format_moment(in_zone(moment, tz), fmt)

    return helper


def evaluate(
    rules: Sequence[TagRule], flavor: Flavor, ctx: EventContext, *, automatic_latest: bool = True
) -> Evaluation:
    """Run ``rules`` (any order; sorted here, highest priority first) against ``ctx``."""
    ev = _Evaluator(ctx, flavor)
    main: str | None = None
    partials: list[str] = []
    latest: bool | None = None
    latest_source = ""
    sources: dict[str, str] = {}
    for rule in sort_rules(list(rules)):
        enabled = ev.render(rule.get("enable"), rule)
        if enabled not in ("true", "false"):
            hint = "enable must render to exactly true or false"
            raise rule.error(f"Invalid value for enable attribute: {enabled}", hint)
        if enabled == "false":
            continue
        produced = ev.produce(rule)
        if produced is None:
            continue
        value = ev.decorate(produced[0], rule)
        if not value:
            continue
        tag, note = hub_safe(sanitize(value))
        if note:
            ev.warnings.append(f"{rule.where()}: tag {sanitize(value)!r} -> {tag!r}: {note}")
        if not tag:
            continue
        if main is None:
            main = tag
        elif tag != main and tag not in partials:
            partials.append(tag)
        sources.setdefault(tag, rule.where())
        if latest is None:
            latest = produced[1] if flavor.latest == "auto" else flavor.latest == "true"
            latest_source = rule.where()
    if main is None:
        return Evaluation(warnings=tuple(ev.warnings))
    tags = [main, *partials]
    latest_tag: str | None = None
    if latest and automatic_latest:
        name = (
            (flavor.prefix if flavor.prefix_latest else "")
            + "latest"
            + (flavor.suffix if flavor.suffix_latest else "")
        )
        latest_tag, note = hub_safe(sanitize(name))
        if note:
            ev.warnings.append(f"flavor: latest tag {sanitize(name)!r} -> {latest_tag!r}: {note}")
        if latest_tag and latest_tag not in tags:
            tags.append(latest_tag)
            sources[latest_tag] = f"latest (flavor latest={flavor.latest}) after {latest_source}"
        latest_tag = latest_tag or None
    return Evaluation(
        tags=tuple(tags),
        version=main,
        latest_tag=latest_tag,
        sources={t: sources[t] for t in tags},
        warnings=tuple(ev.warnings),
    )
