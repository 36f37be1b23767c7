"""Parsing metadata-action's ``tags`` and ``flavor`` lines (the rule language of docs/tags.md).

Every rule is parsed and checked before any is evaluated; the first error aborts with a one-line
message naming the option and the line. Templates and ``match`` regexes are checked here too, so
a typo fails on any event, not only on the release that would have used it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, NoReturn, cast, get_args

from hubci.errors import UsageError
from hubci.tags.template import TemplateError, parse_template

__all__ = [
    "DEFAULT_PRIORITIES",
    "DEFAULT_RULES",
    "Flavor",
    "RuleType",
    "TagRule",
    "TagRuleError",
    "compile_js_regex",
    "parse_csv_record",
    "parse_flavor",
    "parse_tag_rules",
    "rule_lines",
]

RuleType = Literal["schedule", "semver", "pep440", "match", "edge", "ref", "raw", "sha"]
RULE_TYPES: Final[tuple[str, ...]] = get_args(RuleType)
DEFAULT_PRIORITIES: Final[Mapping[str, int]] = {
    "schedule": 1000,
    "semver": 900,
    "pep440": 900,
    "match": 800,
    "edge": 700,
    "ref": 600,
    "raw": 200,
    "sha": 100,
}
DEFAULT_RULES: Final = (
    "type=schedule",
    "type=ref,event=branch",
    "type=ref,event=tag",
    "type=ref,event=pr",
)
LatestMode = Literal["auto", "true", "false"]


class TagRuleError(UsageError):
    """A ``--tags`` / ``--flavor`` / ``--protected-tags`` line that cannot be used."""


@dataclass(frozen=True)
class TagRule:
    """One parsed rule; ``attrs`` hold its fields, with the defaults of its type filled in."""

    type: RuleType
    attrs: Mapping[str, str]
    source: str  # the line as written (trimmed)
    option: str  # "--tags", "--protected-tags" or "default"
    line: int | None  # 1-based line number in the option's text; None for default rules
    priority: float
    regex: re.Pattern[str] | None = field(default=None, compare=False)
    regex_global: bool = False
    regex_sticky: bool = False

    def where(self) -> str:
        if self.line is None:
            return f"{self.source} (default rule)"
        return f"{self.source} ({self.option} line {self.line})"

    def error(self, message: str, hint: str | None = None) -> TagRuleError:
        """An error about this rule, worded like a parse error (``--tags line 2: … in '…'``)."""
        return _located_error(self.option, self.line, self.source, message, hint)

    def has(self, key: str) -> bool:
        return key in self.attrs

    def get(self, key: str, default: str = "") -> str:
        return self.attrs.get(key, default)


@dataclass(frozen=True)
class Flavor:
    latest: LatestMode = "auto"
    prefix: str = ""
    prefix_latest: bool = False
    suffix: str = ""
    suffix_latest: bool = False


def rule_lines(text: str | None) -> list[tuple[int, str]]:
    """(line number, trimmed line) for each line that is not empty or a ``#`` comment.

    As upstream, a comment is a line whose *first* character is ``#``; an indented ``  #x`` is a
    rule (YAML already removed the block's indentation in a workflow).
    """
    out: list[tuple[int, str]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if line:
            out.append((number, line))
    return out


def parse_csv_record(line: str) -> list[str]:
    """Split one CSV record: ``,`` separates, ``"…"`` quotes, ``""`` is a literal quote.

    Raises ValueError for a quote inside an unquoted field, text after a closing quote, or an
    unclosed quote (csv-parse's strict behaviour). Spaces around a quoted field are allowed.
    """
    fields: list[str] = []
    pos, size = 0, len(line)
    while True:
        start = pos
        while pos < size and line[pos] in " \t":
            pos += 1
        if pos < size and line[pos] == '"':
            pos += 1
            value: list[str] = []
            while True:
                end = line.find('"', pos)
                if end < 0:
                    msg = "unclosed quote"
                    raise ValueError(msg)
                value.append(line[pos:end])
                if line.startswith('""', end):
                    value.append('"')
                    pos = end + 2
                    continue
                pos = end + 1
                break
            while pos < size and line[pos] in " \t":
                pos += 1
            if pos < size and line[pos] != ",":
                msg = f"unexpected {line[pos]!r} after a closing quote"
                raise ValueError(msg)
            fields.append("".join(value))
        else:
            end = line.find(",", start)
            end = size if end < 0 else end
            value_text = line[start:end]
            if '"' in value_text:
                msg = (
                    f"a quote inside the unquoted field {value_text.strip()!r} "
                    '(quote the whole field: "key=value")'
                )
                raise ValueError(msg)
            fields.append(value_text)
            pos = end
        if pos >= size:
            return fields
        pos += 1  # the comma
        if pos == size:
            fields.append("")
            return fields


_CSV_HINT = 'quote a whole field that holds a comma or a quote: "pattern=a,b", "value=say ""hi"""'
_REGEX_LITERAL = re.compile(r"^/(.+)/(.*)$")
_JS_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_$][\w$]*)>")
_JS_BACKREF = re.compile(r"\\k<([A-Za-z_$][\w$]*)>")


def compile_js_regex(pattern: str) -> tuple[re.Pattern[str], bool, bool]:
    """Compile a ``match`` pattern as JavaScript would: ``/body/flags`` or the whole text.

    Returns (regex, global flag, sticky flag). Raises ValueError for bad flags or syntax.
    """
    literal = _REGEX_LITERAL.match(pattern)
    body, flags = (literal.group(1), literal.group(2)) if literal else (pattern, "")
    options = 0
    for flag in flags:
        if flag not in "dgimsuy" or flags.count(flag) > 1:
            msg = f"invalid regular expression flags {flags!r}"
            raise ValueError(msg)
        options |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}.get(flag, 0)
    if "u" not in flags:
        options |= re.ASCII  # without u, JavaScript's \d \w \s are ASCII-only
    body = _JS_BACKREF.sub(r"(?P=\1)", _JS_NAMED_GROUP.sub(r"(?P<\1>", body))
    try:
        return re.compile(body, options), "g" in flags, "y" in flags
    except re.error as exc:
        msg = f"invalid regular expression {pattern!r}: {exc}"
        raise ValueError(msg) from exc


def _check_templates(attrs: Mapping[str, str], keys: tuple[str, ...], fail: _Fail) -> None:
    for key in keys:
        if key in attrs:
            try:
                parse_template(attrs[key])
            except TemplateError as exc:
                fail(f"invalid {key}: {exc}")


class _Fail:
    def __init__(self, option: str, number: int | None, line: str) -> None:
        self.option, self.number, self.line = option, number, line

    def __call__(self, message: str, hint: str | None = None) -> NoReturn:
        raise _located_error(self.option, self.number, self.line, message, hint)


def _located_error(
    option: str, number: int | None, line: str, message: str, hint: str | None
) -> TagRuleError:
    where = f"{option} line {number}" if number else "default rule"
    return TagRuleError(f"{where}: {message} in {line!r}", hint)


def parse_rule(line: str, *, option: str = "--tags", number: int | None = None) -> TagRule:
    """Parse one ``tags`` line: a CSV record of ``key=value`` fields, checked for its type."""
    fail = _Fail(option, number, line)
    try:
        fields = parse_csv_record(line)
    except ValueError as exc:
        fail(f"cannot parse the line as CSV ({exc})", _CSV_HINT)
    rule_type: str | None = None
    attrs: dict[str, str] = {}
    for raw_field in fields:
        key, sep, value = raw_field.partition("=")
        if not sep or not key.strip():
            attrs["value"] = raw_field.strip()
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "type":
            if value not in RULE_TYPES:
                fail(f"Unknown tag type attribute: {value}", f"use one of: {', '.join(RULE_TYPES)}")
            rule_type = value
        else:
            attrs[key] = value
    kind = cast(RuleType, rule_type or "raw")
    regex: re.Pattern[str] | None = None
    regex_global = regex_sticky = False
    if kind == "schedule":
        attrs.setdefault("pattern", "nightly")
        _check_templates(attrs, ("pattern",), fail)
    elif kind in ("semver", "pep440"):
        if "pattern" not in attrs:
            fail("Missing pattern attribute", "add e.g. pattern={{version}}")
        attrs.setdefault("value", "")
        attrs.setdefault("match", "")
        _check_templates(attrs, ("pattern",), fail)
        if attrs["match"]:
            try:
                regex, _, _ = compile_js_regex(attrs["match"])
            except ValueError as exc:
                fail(f"invalid match attribute: {exc}")
    elif kind == "match":
        if "pattern" not in attrs:
            fail("Missing pattern attribute", r"add e.g. pattern=v(\d.\d.\d),group=1")
        attrs.setdefault("group", "0")
        if not re.fullmatch("[0-9]+", attrs["group"]):
            fail("Invalid match group", "group must be a capture-group number, e.g. group=1")
        attrs.setdefault("value", "")
        try:
            regex, regex_global, regex_sticky = compile_js_regex(attrs["pattern"])
        except ValueError as exc:
            fail(f"invalid pattern: {exc}")
    elif kind == "edge":
        attrs.setdefault("branch", "")
    elif kind == "ref":
        if "event" not in attrs:
            fail("Missing event attribute", "add event=branch, event=tag or event=pr")
        if attrs["event"] not in ("branch", "tag", "pr"):
            fail("Invalid event", "use event=branch, event=tag or event=pr")
        if attrs["event"] == "pr":
            attrs.setdefault("prefix", "pr-")
    elif kind == "raw":
        if "value" not in attrs:
            fail("Missing value attribute", "add value=<tag>")
    elif kind == "sha":
        attrs.setdefault("prefix", "sha-")
        attrs.setdefault("format", "short")
        if attrs["format"] not in ("short", "long"):
            fail("Invalid format", "use format=short or format=long")
    attrs.setdefault("enable", "true")
    priority_text = attrs.setdefault("priority", str(DEFAULT_PRIORITIES[kind]))
    try:
        priority = float(priority_text)
    except ValueError:
        fail(f"Invalid priority {priority_text!r}", "priority must be a number, e.g. priority=950")
    if priority != priority:  # NaN
        fail(f"Invalid priority {priority_text!r}", "priority must be a number")
    value_keys = ("value", "prefix", "suffix", "enable")
    _check_templates(attrs, value_keys if kind != "schedule" else value_keys[1:], fail)
    return TagRule(
        type=kind,
        attrs=attrs,
        source=line,
        option=option,
        line=number,
        priority=priority,
        regex=regex,
        regex_global=regex_global,
        regex_sticky=regex_sticky,
    )


def parse_tag_rules(text: str | None, *, option: str = "--tags") -> list[TagRule]:
    """All rules of ``text`` in line order, or the four default rules when it has none."""
    lines = rule_lines(text)
    if not lines:
        return [parse_rule(rule, option="default") for rule in DEFAULT_RULES]
    return [parse_rule(line, option=option, number=number) for number, line in lines]


def sort_rules(rules: list[TagRule]) -> list[TagRule]:
    """Highest priority first; equal priorities keep line order (a stable sort)."""
    return sorted(rules, key=lambda rule: -rule.priority)


def parse_flavor(text: str | None, *, option: str = "--flavor") -> Flavor:
    """Parse ``flavor`` lines (``latest=``, ``prefix=``, ``suffix=``, ``onlatest=``); later lines
    override earlier ones."""
    latest: LatestMode = "auto"
    prefix = suffix = ""
    prefix_latest = suffix_latest = False
    for number, line in rule_lines(text):
        fail = _Fail(option, number, line)
        try:
            fields = parse_csv_record(line)
        except ValueError as exc:
            fail(f"cannot parse the line as CSV ({exc})", _CSV_HINT)
        onlatest_for = ""
        for raw_field in fields:
            parts = [part.strip() for part in raw_field.split("=")]
            if len(parts) == 1:
                fail("Invalid flavor entry", "write key=value, e.g. latest=auto or prefix=v")
            key, value = parts[0].lower(), parts[1]
            if key == "latest":
                if value not in ("auto", "true", "false"):
                    fail(
                        "Invalid latest flavor entry",
                        "use latest=auto, latest=true or latest=false",
                    )
                latest = cast(LatestMode, value)
            elif key == "prefix":
                prefix, onlatest_for = value, "prefix"
            elif key == "suffix":
                suffix, onlatest_for = value, "suffix"
            elif key == "onlatest":
                if value not in ("true", "false"):
                    fail(
                        f"Invalid value for onlatest attribute: {value}",
                        "use onlatest=true or onlatest=false",
                    )
                if onlatest_for == "prefix":
                    prefix_latest = value == "true"
                elif onlatest_for == "suffix":
                    suffix_latest = value == "true"
            else:
                fail(
                    f"Unknown flavor entry {key!r}",
                    "flavor keys are latest, prefix, suffix, onlatest",
                )
        for key, template in (("prefix", prefix), ("suffix", suffix)):
            try:
                parse_template(template)
            except TemplateError as exc:
                fail(f"invalid {key}: {exc}")
    return Flavor(latest, prefix, prefix_latest, suffix, suffix_latest)
