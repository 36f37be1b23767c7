"""Parsing ``tags`` / ``flavor`` lines, the expression language and the date formats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hubci.errors import EXIT_USAGE
from hubci.tags.datefmt import UnknownTimeZone, format_moment, in_zone
from hubci.tags.rules import (
    DEFAULT_RULES,
    Flavor,
    TagRuleError,
    compile_js_regex,
    parse_csv_record,
    parse_flavor,
    parse_rule,
    parse_tag_rules,
    rule_lines,
    sort_rules,
)
from hubci.tags.template import TemplateError, is_single_mustache, parse_template, render
from hubci.tags.versions import parse_pep440, parse_semver

# -- lines and CSV -------------------------------------------------------------------------------


def test_rule_lines_comments_and_blanks() -> None:
    text = "# comment\n\n  type=raw,value=a  \n  #indented\nb # tail\n"
    assert rule_lines(text) == [(3, "type=raw,value=a"), (4, "#indented"), (5, "b # tail")]
    assert rule_lines(None) == []


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ("a,b,c", ["a", "b", "c"]),
        ('type=match,"pattern=\\d{1,2}"', ["type=match", "pattern=\\d{1,2}"]),
        ('"a ""quoted"" word",x', ['a "quoted" word', "x"]),
        ("a,", ["a", ""]),
        ('a, "b,c" ,d', ["a", "b,c", "d"]),
        ("", [""]),
    ],
)
def test_csv_record(line: str, fields: list[str]) -> None:
    assert parse_csv_record(line) == fields


@pytest.mark.parametrize(
    ("line", "problem"),
    [('a,"b', "unclosed quote"), ('a,"b"c', "after a closing quote"), ('a,b"c', "quote inside")],
)
def test_csv_errors(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_csv_record(line)


# -- rules -----------------------------------------------------------------------------------------


def test_defaults_when_no_rules() -> None:
    rules = parse_tag_rules("# only a comment\n")
    assert [r.source for r in rules] == list(DEFAULT_RULES)
    assert all(r.line is None and r.option == "default" for r in rules)
    assert rules[3].attrs["prefix"] == "pr-"
    assert [r.priority for r in sort_rules(rules)] == [1000, 600, 600, 600]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("type=schedule", {"pattern": "nightly", "priority": "1000", "enable": "true"}),
        ("type=semver,pattern={{version}}", {"value": "", "match": "", "priority": "900"}),
        ("type=pep440,pattern={{version}}", {"priority": "900"}),
        ("type=match,pattern=x", {"group": "0", "value": "", "priority": "800"}),
        ("type=edge", {"branch": "", "priority": "700"}),
        ("type=ref,event=pr", {"prefix": "pr-", "priority": "600"}),
        ("type=ref,event=pr,prefix=", {"prefix": ""}),
        ("type=ref,event=branch", {"priority": "600"}),
        ("type=raw,value=", {"value": "", "priority": "200"}),
        ("type=sha", {"prefix": "sha-", "format": "short", "priority": "100"}),
        ("foo", {"value": "foo"}),
        ("type = raw , value = x ", {"value": "x"}),
        ("type=raw,value=x,priority=1e3", {"priority": "1e3"}),
        ("type=raw,value=x,Enable={{is_default_branch}}", {"enable": "{{is_default_branch}}"}),
    ],
)
def test_rule_defaults(line: str, expected: dict[str, str]) -> None:
    rule = parse_rule(line, number=1)
    for key, value in expected.items():
        assert rule.attrs[key] == value, key


def test_rule_type_and_priority() -> None:
    assert parse_rule("foo").type == "raw"
    assert parse_rule("type=raw,value=x,priority=1e3").priority == 1000.0
    assert parse_rule("TYPE=sha").type == "sha"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("type=foo", "Unknown tag type attribute: foo"),
        ("type=semver", "Missing pattern attribute"),
        ("type=pep440,value=1.0", "Missing pattern attribute"),
        ("type=match", "Missing pattern attribute"),
        ("type=match,pattern=x,group=a", "Invalid match group"),
        ("type=match,pattern=x,group=²", "Invalid match group"),
        ("type=match,pattern=(x", "invalid pattern: invalid regular expression"),
        ("type=match,pattern=/x/q", "invalid regular expression flags 'q'"),
        ("type=semver,pattern={{version}},match=(", "invalid match attribute"),
        ("type=ref", "Missing event attribute"),
        ("type=ref,event=push", "Invalid event"),
        ("type=raw", "Missing value attribute"),
        ("type=sha,format=medium", "Invalid format"),
        ("type=raw,value=x,priority=high", "Invalid priority 'high'"),
        ("type=raw,value=x,priority=nan", "Invalid priority 'nan'"),
        ("type=raw,value={{branch", "invalid value: unclosed"),
        ("type=raw,value={{#if branch}}x{{/if}}", "block helpers"),
        ("type=raw,value={{date (x)}}", "sub-expressions are not supported"),
        ("type=semver,pattern={{version}", "invalid pattern"),
        ("type=raw,value=x,enable={{{is_default_branch}}", "invalid enable"),
        ('type=raw,value=a"b', "cannot parse the line as CSV"),
    ],
)
def test_rule_errors_name_the_line(line: str, message: str) -> None:
    text = "type=raw,value=ok\n\n" + line
    with pytest.raises(TagRuleError) as info:
        parse_tag_rules(text, option="--protected-tags")
    rendered = info.value.format_message()
    assert rendered.startswith("--protected-tags line 3: ")
    assert message in rendered
    assert repr(line) in rendered
    assert "\n" not in rendered
    assert info.value.exit_code == EXIT_USAGE


def test_csv_error_says_how_to_quote() -> None:
    with pytest.raises(TagRuleError) as info:
        parse_tag_rules('type=match,"pattern=a,b')
    assert info.value.format_message().endswith(
        '(quote a whole field that holds a comma or a quote: "pattern=a,b", "value=say ""hi""")'
    )


def test_all_rules_parsed_before_evaluation() -> None:
    with pytest.raises(TagRuleError, match="line 2"):
        parse_tag_rules("type=raw,value=fine\ntype=bogus")


def test_js_regex_translation() -> None:
    regex, is_global, sticky = compile_js_regex("/(?<major>\\d+)\\.\\k<major>/gi")
    assert (is_global, sticky) == (True, False)
    found = regex.search("V1.1")
    assert found is not None
    assert found.group("major") == "1"
    plain, _, _ = compile_js_regex("a/b")
    assert plain.pattern == "a/b"
    ascii_digits, _, _ = compile_js_regex("\\d")
    assert ascii_digits.search("٣") is None  # JavaScript's \d is ASCII-only
    with pytest.raises(ValueError, match="flags"):
        compile_js_regex("/x/gg")


# -- flavor ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Flavor()),
        ("latest=true", Flavor(latest="true")),
        ("latest=false\nlatest=auto", Flavor(latest="auto")),
        ("prefix=v,onlatest=true", Flavor(prefix="v", prefix_latest=True)),
        ("suffix=-dev,onlatest=true", Flavor(suffix="-dev", suffix_latest=True)),
        ("prefix=a,suffix=b,onlatest=true", Flavor(prefix="a", suffix="b", suffix_latest=True)),
        ("onlatest=true,prefix=a", Flavor(prefix="a")),
        ("prefix=a=b", Flavor(prefix="a")),
        ("PREFIX=x\nprefix=y", Flavor(prefix="y")),
        ("prefix=v,onlatest=true\nprefix=w", Flavor(prefix="w", prefix_latest=True)),
        ("# comment\nsuffix=", Flavor()),
    ],
)
def test_flavor(text: str | None, expected: Flavor) -> None:
    assert parse_flavor(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latest", "Invalid flavor entry"),
        ("latest=maybe", "Invalid latest flavor entry"),
        ("prefix=a,onlatest=yes", "Invalid value for onlatest attribute: yes"),
        ("colour=blue", "Unknown flavor entry 'colour'"),
        ("prefix={{tag", "invalid prefix"),
    ],
)
def test_flavor_errors(text: str, message: str) -> None:
    with pytest.raises(TagRuleError) as info:
        parse_flavor("latest=auto\n" + text)
    assert info.value.format_message().startswith("--flavor line 2: ")
    assert message in info.value.format_message()


# -- template --------------------------------------------------------------------------------------


def _helper(params: object, hash_args: object) -> str:
    return f"{params}|{hash_args}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("{{name}}", "v&amp;1"),
        ("{{{name}}}", "v&1"),
        ("{{&name}}", "v&1"),
        ("{{ name }}", "v&amp;1"),
        ("{{this.name}}", "v&amp;1"),
        ("{{missing}}", ""),
        ("{{number}}-{{flag}}-{{items}}", "3-true-a,1"),
        ("a {{! comment }} b", "a  b"),
        ("a {{!-- long }} comment --}} b", "a  b"),
        ("\\{{name}}", "{{name}}"),
        ("\\\\{{name}}", "\\v&amp;1"),
        ("a {{~name~}} b", "av&amp;1b"),
        (
            "{{{fn 'x' \"y\" 2 true null name k='v'}}}",
            "['x', 'y', 2, True, None, 'v&1']|{'k': 'v'}",
        ),
        ("{{fn 'it\\'s'}}", "[&quot;it&#x27;s&quot;]|{}"),
    ],
)
def test_render(template: str, expected: str) -> None:
    scope = {"name": "v&1", "number": 3, "flag": True, "items": ["a", 1], "fn": _helper}
    assert render(template, scope) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{", "unclosed"),
        ("{{a", "unclosed"),
        ("{{}}", "empty expression"),
        ("{{a}}}", "mismatched braces"),
        ("{{{a}}", "mismatched braces"),
        ("{{> partial}}", "not supported"),
        ("{{else}}", "not supported"),
        ("{{a k='v' 'x'}}", "positional argument after key=value"),
        ("{{a k=}}", "missing value"),
        ("{{!-- open", "unclosed comment"),
        ("{{a %}}", "unexpected '%'"),
    ],
)
def test_template_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(template, {"a": "x"})


def test_missing_helper() -> None:
    with pytest.raises(TemplateError, match='Missing helper: "nope"'):
        render("{{nope 'x'}}", {})
    with pytest.raises(TemplateError, match='Missing helper: "plain"'):
        render("{{plain 'x'}}", {"plain": "value"})


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{raw}}", True),
        ("{{ raw }}", True),
        ("{{{raw}}}", True),
        ("v{{raw}}", False),
        ("{{version}}", False),
        ("{{raw}} ", False),
        ("{{raw", False),
    ],
)
def test_is_single_mustache(template: str, expected: bool) -> None:
    assert is_single_mustache(template, "raw") is expected


def test_parse_is_cached_and_pure() -> None:
    assert parse_template("a{{b}}") is parse_template("a{{b}}")


# -- moment formats -------------------------------------------------------------------------------

MOMENT = datetime(2020, 1, 10, 0, 30, 5, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("YYYYMMDD", "20200110"),
        ("YYYYMMDD-HHmmss", "20200110-003005"),
        ("YY.M.D H:m:s", "20.1.10 0:30:5"),
        ("MMM MMMM Mo", "Jan January 1st"),
        ("Do DDD DDDD DDDo", "10th 10 010 10th"),
        ("d dd ddd dddd do E e", "5 Fr Fri Friday 5th 5 5"),
        ("h hh k kk A a", "12 12 24 24 AM am"),
        ("S SS SSS SSSS", "1 12 123 1230"),
        ("Q Qo", "1 1st"),
        ("w ww wo W WW Wo", "2 02 2nd 2 02 2nd"),
        ("gggg GGGG gg GG", "2020 2020 20 20"),
        ("X x", "1578616205 1578616205123"),
        ("Z ZZ z", "+00:00 +0000 UTC"),
        ("[Week] W [of] YYYY", "Week 2 of 2020"),
        ("\\YYYY \\Q", "YYYY Q"),
        ("Hmm hmmss", "030 123005"),
        ("LT L", "12:30 AM 01/10/2020"),
        ("N NNNN y yo", "AD Anno Domini 2020 2020th"),
        ("YYYYYY YYYYY Y", "+002020 02020 2020"),
        ("x|y", "1578616205123|2020"),
        (None, "2020-01-10T00:30:05Z"),
    ],
)
def test_moment_tokens(fmt: str | None, expected: str) -> None:
    assert format_moment(MOMENT, fmt) == expected


def test_moment_zones() -> None:
    tokyo = in_zone(MOMENT, "Asia/Tokyo")
    assert format_moment(tokyo, "YYYYMMDD-HHmmss Z z") == "20200110-093005 +09:00 JST"
    assert format_moment(tokyo, None) == "2020-01-10T09:30:05+09:00"
    london = in_zone(MOMENT, "Europe/London")
    assert format_moment(london, None) == "2020-01-10T00:30:05Z"  # offset zero: moment uses Z
    new_york = in_zone(MOMENT, "America/New_York")
    assert new_york.utcoffset() == timedelta(hours=-5)
    assert format_moment(new_york, "ZZ") == "-0500"
    with pytest.raises(UnknownTimeZone):
        in_zone(MOMENT, "Mars/Olympus")


@pytest.mark.parametrize(
    ("day", "locale_week", "iso_week"),
    [
        ((2021, 1, 1), "1 2021", "53 2020"),
        ((2020, 12, 31), "1 2021", "53 2020"),
        ((2019, 12, 30), "1 2020", "1 2020"),
        ((2022, 1, 2), "2 2022", "52 2021"),
    ],
)
def test_week_years(day: tuple[int, int, int], locale_week: str, iso_week: str) -> None:
    moment = datetime(*day, tzinfo=timezone.utc)
    assert format_moment(moment, "w gggg") == locale_week
    assert format_moment(moment, "W GGGG") == iso_week


# -- versions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "v1.2.3",
        " 1.2.3 ",
        "1.2.3-alpha.1",
        "1.2.3-0a",
        "1.2.3+build.5",
        "0.0.0",
        "1.2.3-x-y-z.--",
        "9007199254740991.0.0",
    ],
)
def test_semver_valid(text: str) -> None:
    assert parse_semver(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "V1.2.3",
        "=1.2.3",
        "1.2",
        "v01.2.3",
        "foo-1.2.3",
        "1.2.3-01",
        "1.2.3-",
        "1.2.3+",
        "vv1.2.3",
        "9007199254740992.0.0",
        "1." * 130 + "1",
    ],
)
def test_semver_invalid(text: str) -> None:
    assert parse_semver(text) is None


def test_semver_fields() -> None:
    sv = parse_semver("v9.5.7-alpha.2+fork.3")
    assert sv is not None
    assert sv.version == "9.5.7-alpha.2"
    assert sv.fields()["prerelease"] == ["alpha", 2]
    assert sv.fields()["build"] == ["fork", "3"]
    assert sv.raw == "v9.5.7-alpha.2+fork.3"


@pytest.mark.parametrize(
    ("text", "normal", "pre"),
    [
        ("1.1beta2", "1.1b2", True),
        ("1.0dev4", "1.0.dev4", True),
        ("1.2post1", "1.2.post1", True),
        ("v1.0.0.0", "1.0.0.0", False),
        ("1.2.3-1", "1.2.3.post1", True),
        ("1!2.0", "1!2.0", False),
        ("1.0+abc", "1.0+abc", False),
        ("V2.0", "2.0", False),
    ],
)
def test_pep440(text: str, normal: str, pre: bool) -> None:
    version = parse_pep440(text)
    assert version is not None
    assert version.version == normal
    assert version.is_pre_post_or_dev is pre


def test_pep440_invalid() -> None:
    assert parse_pep440("sometag") is None
