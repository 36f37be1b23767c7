"""The pure engine, table-driven: every rule type and attribute, each event kind, flavor, latest,
priorities, sanitising, the Hub fixes and protected tags (docs/tags.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubci import rules as hub_rules
from hubci.errors import UsageError
from hubci.tags import EventContext, TagRuleError, compute_tags
from hubci.tags.engine import HUB_TAG_MAX_LENGTH, hub_safe, sanitize

FROZEN = datetime(2020, 1, 10, 0, 30, tzinfo=timezone.utc)
SHA_A = "860c1904a1ce19322e91ac35af1ab07466440c37"
SHA_B = "266574110acf203503badf966df2ea24b5d732d7"


def ctx(ref: str, event: str = "push", sha: str = SHA_A, **kw: Any) -> EventContext:
    kw.setdefault("default_branch", "master")
    kw.setdefault("repo_default_branch", kw["default_branch"])
    kw.setdefault("now", FROZEN)
    kw.setdefault("commit_date", FROZEN)
    return EventContext(event_name=event, ref=ref, sha=sha, **kw)


PUSH_DEV = ctx("refs/heads/dev")
PUSH_MASTER = ctx("refs/heads/master", sha=SHA_B)
PR = ctx("refs/pull/15/merge", "pull_request", SHA_B, pr_base_ref="master")
PR_TARGET = ctx("refs/pull/15/merge", "pull_request_target", SHA_B, pr_base_ref="master")
SCHEDULE = ctx("refs/heads/master", "schedule", default_branch=None, repo_default_branch="master")
DISPATCH = ctx("refs/heads/master", "workflow_dispatch")
NULL = ctx("", "", sha="", default_branch=None)


def tag(name: str, event: str = "push", **kw: Any) -> EventContext:
    return ctx(f"refs/tags/{name}", event, **kw)


SEMVER_3 = """type=semver,pattern={{version}}
type=semver,pattern={{major}}.{{minor}}
type=semver,pattern={{major}}"""
PEP440_3 = SEMVER_3.replace("semver", "pep440")


@dataclass(frozen=True)
class Case:
    id: str
    context: EventContext
    tags: str | None
    expected: list[str]
    flavor: str | None = None
    version: str | None = field(default=None)


CASES = [
    # -- branch pushes, default rules --------------------------------------------------------
    Case("push01-default-rules-branch", PUSH_DEV, None, ["dev"], version="dev"),
    Case("default-rules-default-branch", PUSH_MASTER, None, ["master"]),
    Case("default-rules-comments-only", PUSH_DEV, "# nothing here\n\n", ["dev"]),
    Case(
        "branch-slashes-sanitised",
        ctx("refs/heads/my/feature#1245"),
        "type=ref,event=branch",
        ["my-feature-1245"],
    ),
    Case(
        "push12-tag-rules-on-branch",
        PUSH_DEV,
        "type=semver,pattern={{version}}\ntype=pep440,pattern={{version}}\ntype=edge",
        [],
    ),
    # -- edge ------------------------------------------------------------------------------------
    Case("edge-default-branch", PUSH_MASTER, "type=edge", ["edge"]),
    Case("edge-other-branch", PUSH_DEV, "type=edge", []),
    Case("edge-explicit-branch", PUSH_DEV, "type=edge,branch=dev", ["edge"]),
    Case(
        "push10-edge-other-plus-sha", PUSH_MASTER, "type=edge,branch=dev\ntype=sha", ["sha-2665741"]
    ),
    Case("edge-on-tag", tag("v1.0.0"), "type=edge", []),
    Case("edge-on-pr", PR, "type=edge", []),
    Case("edge-prefix", PUSH_MASTER, "type=edge,prefix=x-", ["x-edge"]),
    # -- sha ---------------------------------------------------------------------------------------
    Case("sha-short", PUSH_DEV, "type=sha", ["sha-860c190"]),
    Case("sha-long", PUSH_DEV, "type=sha,format=long", [f"sha-{SHA_A}"]),
    Case("sha-no-prefix", PUSH_DEV, "type=sha,prefix=", ["860c190"]),
    Case("sha-prefix-suffix", PUSH_DEV, "type=sha,prefix=commit-,suffix=-x", ["commit-860c190-x"]),
    Case("sha-empty", ctx("refs/heads/dev", sha=""), "type=sha", []),
    Case(
        "sha-length-12",
        ctx("refs/heads/dev", short_sha_length=12),
        "type=sha\ntype=raw,{{sha}}",
        ["860c1904a1ce", "sha-860c1904a1ce"],
    ),
    Case(
        "sha-length-over-sha",
        ctx("refs/heads/dev", short_sha_length=99),
        "type=sha,prefix=",
        [SHA_A],
    ),
    # -- raw and global expressions ----------------------------------------------------------------
    Case("raw-bare-value", PUSH_DEV, "foo", ["foo"]),
    Case("raw-later-bare-field-wins", PUSH_DEV, "type=raw,value=a,b", ["b"]),
    Case("raw-value-with-equals", PUSH_DEV, "type=raw,value=a=b", ["a-b"]),
    Case("raw-hash-kept", PUSH_DEV, "type=raw,value=a # b", ["a-b"]),
    Case("raw-upper-case-keys", PUSH_DEV, "TYPE=raw,VALUE=x", ["x"]),
    Case("raw-empty-value-dropped", PUSH_DEV, "type=raw,value=\ntype=raw,value=x", ["x"]),
    Case("raw-unknown-key-ignored", PUSH_DEV, "type=raw,value=x,colour=blue", ["x"]),
    Case("raw-quoted-comma", PUSH_DEV, 'type=raw,"value=a,b"', ["a-b"]),
    Case(
        "push17-expressions",
        ctx("refs/heads/master"),
        "\n".join(
            [
                "type=raw,value=mytag-{{branch}}",
                "type=raw,value=mytag-{{date 'YYYYMMDD'}}",
                "type=raw,value=mytag-cd-{{commit_date 'YYYYMMDD'}}",
                "type=raw,value=mytag-{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
                "type=raw,value=mytag-tag-{{tag}}",
                "type=raw,value=mytag-baseref-{{base_ref}}",
                "type=raw,value=mytag-defbranch,enable={{is_default_branch}}",
            ]
        ),
        [
            "mytag-master",
            "mytag-20200110",
            "mytag-cd-20200110",
            "mytag-20200110-093000",
            "mytag-tag-",
            "mytag-baseref-",
            "mytag-defbranch",
        ],
    ),
    Case(
        "commit-date-differs-from-now",
        ctx("refs/heads/dev", commit_date=datetime(2019, 5, 6, 23, 0, tzinfo=timezone.utc)),
        "type=raw,value={{commit_date 'YYYY.MM.DD'}}\ntype=raw,value={{date 'YYYY.MM.DD'}}",
        ["2019.05.06", "2020.01.10"],
    ),
    Case("date-iso-default-utc", PUSH_DEV, "type=raw,value={{date foo}}", ["2020-01-10T00-30-00Z"]),
    Case(
        "date-iso-default-tokyo",
        PUSH_DEV,
        "type=raw,value={{date foo tz='Asia/Tokyo'}}",
        ["2020-01-10T09-30-00-09-00"],
    ),
    Case("is-default-branch-false", PUSH_DEV, "type=raw,value=d,enable={{is_default_branch}}", []),
    Case(
        "is-not-default-branch",
        PUSH_DEV,
        "type=raw,value=d,enable={{is_not_default_branch}}",
        ["d"],
    ),
    Case(
        "is-default-branch-schedule-event",
        ctx("refs/heads/dev", "schedule", default_branch=None),
        "type=raw,value=d,enable={{is_default_branch}}",
        ["d"],
    ),
    Case(
        "is-default-branch-issues-event",
        ctx("refs/heads/dev", "issues", default_branch="master"),
        "type=raw,value=d,enable={{is_default_branch}}",
        ["d"],
    ),
    Case(
        "is-default-branch-tag-ref",
        tag("master", default_branch="master"),
        "type=raw,value=d,enable={{is_default_branch}}",
        [],
    ),
    Case("enable-false", PUSH_DEV, "type=ref,event=branch,enable=false\ntype=raw,x", ["x"]),
    Case("unknown-name-renders-empty", PUSH_DEV, "type=raw,value=a{{foo}}b", ["ab"]),
    Case(
        "html-escaping",
        ctx("refs/heads/feature/Foo&Bar=1"),
        "type=raw,value={{branch}},priority=700\ntype=ref,event=branch",
        ["feature-Foo-amp-Bar-x3D-1", "feature-Foo-Bar-1"],
    ),
    Case(
        "triple-braces-no-escaping",
        ctx("refs/heads/feature/Foo&Bar=1"),
        "type=raw,value={{{branch}}}",
        ["feature-Foo-Bar-1"],
    ),
    Case(
        "base-ref-tag-push",
        tag("v1.0.0", base_ref="refs/heads/release"),
        "type=raw,value={{base_ref}}",
        ["release"],
    ),
    Case(
        "base-ref-pr",
        PR,
        "type=raw,value=b-{{base_ref}}\ntype=raw,value=x{{branch}}",
        ["b-master", "x"],
    ),
    # -- latest ----------------------------------------------------------------------------------
    Case(
        "raw07-latest-true",
        PUSH_DEV,
        "type=ref,priority=90,event=branch\ntype=raw,my\ntype=raw,custom\ntype=raw,tags",
        ["my", "custom", "tags", "dev", "latest"],
        flavor="latest=true",
    ),
    Case("latest-true-default-rules", PUSH_DEV, None, ["dev", "latest"], flavor="latest=true"),
    Case("latest-false-tag", tag("v1.1.1"), SEMVER_3, ["1.1.1", "1.1", "1"], flavor="latest=false"),
    Case(
        "latest-later-line-wins",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}",
        ["1.1.1", "latest"],
        flavor="latest=false\nlatest=auto",
    ),
    Case(
        "explicit-latest-not-duplicated",
        tag("v1.0.0"),
        "type=semver,pattern={{version}}\ntype=raw,value=latest",
        ["1.0.0", "latest"],
    ),
    Case(
        "latest-fixed-by-highest-priority",
        tag("v1.1.1"),
        "type=raw,priority=2000,foo\ntype=ref,event=tag\ntype=edge",
        ["foo", "v1.1.1"],
    ),
    # -- tags: semver ------------------------------------------------------------------------------
    Case("tag11-semver", tag("v1.1.1"), SEMVER_3, ["1.1.1", "1.1", "1", "latest"], version="1.1.1"),
    Case("semver-0x", tag("v0.1.2"), SEMVER_3, ["0.1.2", "0.1", "0", "latest"]),
    Case(
        "tag13-semver-prerelease",
        tag("v2.0.8-beta.67"),
        SEMVER_3.split("\n", 1)[1],
        ["2.0.8-beta.67"],
    ),
    Case(
        "semver-prerelease-raw",
        tag("v2.0.8-beta.67"),
        "type=semver,pattern={{ raw }}",
        ["v2.0.8-beta.67"],
    ),
    Case(
        "semver-prerelease-prefixed-pattern",
        tag("v2.0.8-beta.67"),
        "type=semver,pattern=v{{major}}",
        ["2.0.8-beta.67"],
    ),
    Case(
        "semver-prerelease-latest-true",
        tag("v2.0.0-rc.1"),
        "type=semver,pattern={{major}}",
        ["2.0.0-rc.1", "latest"],
        flavor="latest=true",
    ),
    Case(
        "semver-build-dropped",
        tag("v9.5.7-alpha.2+fork.3.1.8"),
        "type=semver,pattern={{version}}\ntype=semver,pattern={{raw}}",
        ["9.5.7-alpha.2", "v9.5.7-alpha.2-fork.3.1.8"],
    ),
    Case(
        "semver-release-build",
        tag("v1.2.3+build.5"),
        "type=semver,pattern={{version}}\ntype=semver,pattern={{raw}}",
        ["1.2.3", "v1.2.3-build.5", "latest"],
    ),
    Case(
        "semver-patch-pattern",
        tag("v1.1.1"),
        "type=semver,pattern={{major}}.{{minor}}.{{patch}}",
        ["1.1.1", "latest"],
    ),
    Case("semver-invalid-tag", tag("sometag"), "type=semver,pattern={{version}}", []),
    Case("semver-capital-v-invalid", tag("V1.2.3"), "type=semver,pattern={{version}}", []),
    Case("semver-two-parts-invalid", tag("1.2"), "type=semver,pattern={{version}}", []),
    Case(
        "semver-value-on-branch",
        PUSH_DEV,
        "type=semver,pattern={{version}},value=v3.2.1",
        ["3.2.1", "latest"],
    ),
    Case(
        "semver-value-expression",
        ctx("refs/heads/release/v1.2.3"),
        "type=semver,pattern={{major}}.{{minor}},value={{branch}}",
        [],
    ),
    Case(
        "semver-match-attribute",
        tag("p1/v1.0.0"),
        "type=semver,pattern={{version}},match=v(\\d.\\d.\\d)$",
        ["1.0.0", "latest"],
    ),
    Case(
        "semver-match-miss-keeps-source",
        tag("v1.0.0"),
        "type=semver,pattern={{version}},match=^x(\\d)",
        ["1.0.0", "latest"],
    ),
    Case("semver-slash-replaced-then-invalid", tag("p1/v1.0.0"), "type=semver,pattern={{raw}}", []),
    Case(
        "semver-prefix-suffix",
        tag("v1.1.1"),
        "type=semver,pattern={{version}},prefix=v\ntype=semver,pattern={{major}},suffix=-x",
        ["v1.1.1", "1-x", "latest"],
    ),
    Case("release-event", tag("v1.1.1", "release"), SEMVER_3, ["1.1.1", "1.1", "1", "latest"]),
    Case("create-event-tag", tag("v1.1.1", "create"), "type=ref,event=tag", ["v1.1.1", "latest"]),
    # -- tags: pep440 ------------------------------------------------------------------------------
    Case("pep440-release", tag("v1.1.1"), PEP440_3, ["1.1.1", "1.1", "1", "latest"]),
    Case("tag25-pep440-beta", tag("1.1beta2"), PEP440_3.split("\n", 1)[1], ["1.1b2"]),
    Case("pep440-dev", tag("1.0dev4"), PEP440_3, ["1.0.dev4"]),
    Case("pep440-post", tag("1.2post1"), PEP440_3, ["1.2.post1"]),
    Case("pep440-rc", tag("v1.2.3rc2"), PEP440_3, ["1.2.3rc2"]),
    Case("pep440-pre-raw", tag("1.1beta2"), "type=pep440,pattern={{raw}}", ["1.1beta2"]),
    Case(
        "pep440-missing-parts-zero",
        tag("1.2"),
        "type=pep440,pattern={{major}}.{{minor}}.{{patch}}",
        ["1.2.0", "latest"],
    ),
    Case(
        "pep440-local-not-prerelease",
        tag("1.0+abc"),
        "type=pep440,pattern={{version}}",
        ["1.0-abc", "latest"],
    ),
    Case("pep440-epoch", tag("1!2.0"), "type=pep440,pattern={{version}}", ["1-2.0", "latest"]),
    Case("pep440-raw-release", tag("v1.1.1"), "type=pep440,pattern={{raw}}", ["v1.1.1", "latest"]),
    Case("pep440-invalid", tag("sometag"), "type=pep440,pattern={{version}}", []),
    Case(
        "pep440-latest-true-pre",
        tag("1.1beta2"),
        "type=pep440,pattern={{version}}",
        ["1.1b2", "latest"],
        flavor="latest=true",
    ),
    # -- tags: match and ref -----------------------------------------------------------------------
    Case(
        "tag19-match-flavor-suffix",
        tag("p1/v1.0.0"),
        'type=match,"pattern=p1/v(\\d.\\d.\\d)",group=1\n'
        'type=match,"pattern=p1/v(\\d.\\d)",group=1,suffix=\n'
        "type=ref,event=pr\ntype=sha",
        ["1.0.0-dev", "1.0", "sha-860c190-dev", "latest"],
        flavor="suffix=-dev",
    ),
    Case(
        "match-whole",
        tag("release-20200110-RC2"),
        "type=match,pattern=\\d{8}",
        ["20200110", "latest"],
    ),
    Case(
        "match-quoted-comma",
        tag("v12.3"),
        'type=match,"pattern=v(\\d{1,2})",group=1',
        ["12", "latest"],
    ),
    Case(
        "match-prerelease-still-latest",
        tag("v2.0.8-beta.67"),
        "type=match,pattern=v(.*),group=1",
        ["2.0.8-beta.67", "latest"],
    ),
    Case("match-no-match", tag("v1.0.0"), "type=match,pattern=^x", []),
    Case("match-missing-group", tag("v1.0.0"), "type=match,pattern=v(\\d),group=3", []),
    Case("match-group-not-participating", tag("v1"), "type=match,pattern=v(\\d)|(x),group=2", []),
    Case(
        "match-regex-literal-flags",
        tag("REL-1"),
        "type=match,pattern=/rel-(\\d)/i,group=1",
        ["1", "latest"],
    ),
    Case(
        "match-global-flag-quirk",
        tag("v1.2v3"),
        "type=match,pattern=/v(\\d)/g,group=1",
        ["v3", "latest"],
    ),
    Case(
        "match-value-on-branch",
        PUSH_DEV,
        "type=match,pattern=\\d+,value=build-42",
        ["42", "latest"],
    ),
    Case("match-not-on-branch", PUSH_DEV, "type=match,pattern=.*", []),
    Case("ref-tag-default-rules", tag("v1.2.3"), None, ["v1.2.3", "latest"]),
    Case("ref-tag-prerelease-latest", tag("v2.0.8-beta.67"), None, ["v2.0.8-beta.67", "latest"]),
    Case("ref-tag-slash", tag("p1/v1.0.0"), "type=ref,event=tag", ["p1-v1.0.0", "latest"]),
    Case("ref-branch-on-tag", tag("v1"), "type=ref,event=branch", []),
    Case(
        "tag10-nothing-matches",
        tag("sometag"),
        "type=semver,pattern={{version}}\ntype=match,pattern=^\\d",
        [],
    ),
    Case(
        "tag22-flavor-onlatest",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}.{{patch}}",
        ["foo-1.1.1-dev", "foo-latest-dev"],
        flavor="prefix=foo-,onlatest=true\nsuffix=-dev,onlatest=true",
    ),
    Case(
        "flavor-prefix-not-on-latest",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}",
        ["foo-1.1.1", "latest"],
        flavor="prefix=foo-",
    ),
    Case(
        "flavor-onlatest-before-prefix-ignored",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}",
        ["foo-1.1.1", "latest"],
        flavor="onlatest=true,prefix=foo-",
    ),
    Case(
        "flavor-prefix-first-equals-only",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}",
        ["a1.1.1", "latest"],
        flavor="prefix=a=b",
    ),
    Case(
        "flavor-prefix-expression",
        tag("v1.1.1"),
        "type=semver,pattern={{version}}",
        ["v1.1.1-1.1.1", "tag--latest"],
        flavor="prefix={{tag}}-,onlatest=true",
    ),
    Case(
        "rule-suffix-empty-beats-flavor",
        PUSH_DEV,
        "type=ref,event=branch,suffix=",
        ["dev"],
        flavor="suffix=-dev",
    ),
    # -- pull requests -----------------------------------------------------------------------------
    Case("pr-default-rules", PR, None, ["pr-15"]),
    Case("pr-target-default-rules", PR_TARGET, None, ["pr-15"]),
    Case(
        "pr07-sha-priority",
        PR_TARGET,
        "type=sha,priority=2000\ntype=ref,event=pr",
        ["sha-2665741", "pr-15"],
    ),
    Case("pr-empty-prefix", PR, "type=ref,event=pr,prefix=", ["15"]),
    Case("pr-flavor", PR, "type=ref,event=pr", ["pr-15-bal"], flavor="prefix=glo-,suffix=-bal"),
    Case(
        "pr-flavor-empty-prefix",
        PR,
        "type=ref,event=pr,prefix=",
        ["15-bal"],
        flavor="prefix=glo-,suffix=-bal",
    ),
    Case(
        "pr-head-ref", ctx("refs/pull/15/head", "pull_request"), "type=ref,event=pr", ["pr-15-head"]
    ),
    Case("pr-no-branch-tags", PR, "type=ref,event=branch\ntype=edge,branch=master", []),
    # -- schedule, dispatch, empty ----------------------------------------------------------------
    Case("schedule-default-rules", SCHEDULE, None, ["nightly", "master"]),
    Case(
        "schedule06",
        SCHEDULE,
        "type=schedule\ntype=sha,priority=2000\n"
        "type=raw,value=defbranch,enable={{is_default_branch}}",
        ["sha-860c190", "nightly", "defbranch"],
    ),
    Case(
        "schedule-date-pattern", SCHEDULE, "type=schedule,pattern={{date 'YYYYMMDD'}}", ["20200110"]
    ),
    Case(
        "schedule-other-expressions-empty",
        SCHEDULE,
        "type=schedule,pattern=nightly-{{sha}}",
        ["nightly-"],
    ),
    Case("schedule-not-on-push", PUSH_MASTER, "type=schedule", []),
    Case("schedule-prefix", SCHEDULE, "type=schedule,prefix={{branch}}-", ["master-nightly"]),
    Case("workflow-dispatch", DISPATCH, "type=ref,event=branch\ntype=edge", ["edge", "master"]),
    Case("null-event", NULL, None, []),
    # -- priorities ------------------------------------------------------------------------------
    Case(
        "priority-reorders",
        PUSH_DEV,
        "type=raw,a\ntype=raw,b,priority=300\ntype=raw,c",
        ["b", "a", "c"],
    ),
    Case(
        "priority-equal-keeps-line-order",
        PUSH_DEV,
        "type=raw,z,priority=5\ntype=raw,y,priority=5\ntype=raw,x,priority=5.5",
        ["x", "z", "y"],
    ),
    Case("main-duplicate-dropped", PUSH_DEV, "type=raw,a\ntype=raw,a\ntype=raw,b", ["a", "b"]),
    # -- Hub fixes ---------------------------------------------------------------------------------
    Case("hub-leading-dash", PUSH_DEV, "type=raw,value=-foo", ["foo"]),
    Case("hub-leading-dot", PUSH_DEV, "type=raw,value=.bar", ["bar"]),
    Case("hub-indented-hash-is-a-rule", PUSH_DEV, "  #x", ["x"]),
    Case("hub-only-punctuation-dropped", PUSH_DEV, "type=raw,value=--\ntype=raw,y", ["y"]),
    Case("hub-fix-then-duplicate", PUSH_DEV, "type=raw,foo\ntype=raw,-foo", ["foo"]),
    Case(
        "hub-too-long",
        ctx("refs/heads/" + "b" * 140),
        "type=ref,event=branch",
        ["b" * HUB_TAG_MAX_LENGTH],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_vectors(case: Case) -> None:
    plan = compute_tags(case.tags, case.flavor, None, case.context)
    assert list(plan.tags) == case.expected
    assert plan.protected_tags == ()
    if case.version is not None:
        assert plan.version == case.version
    if case.expected:
        assert plan.version == case.expected[0]
    else:
        assert plan.version is None
        assert any("no tag was generated" in w for w in plan.warnings)
    for t in plan.tags:
        assert hub_rules.TAG.match(t), t


def test_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


def test_latest_flag_and_sources() -> None:
    plan = compute_tags(SEMVER_3, None, None, tag("v1.1.1"))
    assert plan.latest is True
    assert plan.sources == {
        "1.1.1": "type=semver,pattern={{version}} (--tags line 1)",
        "1.1": "type=semver,pattern={{major}}.{{minor}} (--tags line 2)",
        "1": "type=semver,pattern={{major}} (--tags line 3)",
        "latest": "latest (flavor latest=auto) after type=semver,pattern={{version}} "
        "(--tags line 1)",
    }
    assert compute_tags(None, None, None, PUSH_DEV).sources == {
        "dev": "type=ref,event=branch (default rule)"
    }
    assert compute_tags(SEMVER_3, None, None, tag("v2.0.0-rc.1")).latest is False


@pytest.mark.parametrize(
    ("rules", "context", "warning"),
    [
        ("type=semver,pattern={{version}}", tag("nope"), "'nope' is not a valid semver"),
        ("type=pep440,pattern={{version}}", tag("nope"), "'nope' does not conform to PEP 440"),
        ("type=match,pattern=^x", tag("v1"), "pattern does not match 'v1'"),
        ("type=match,pattern=v(\\d),group=2", tag("v1"), "group 2 does not exist"),
        (
            "type=edge",
            ctx("refs/heads/main", repo_default_branch=None),
            "default branch is unknown",
        ),
        ("type=raw,value=-x", PUSH_DEV, "removed the leading"),
        ("type=semver,pattern={{version}},match=^x(\\d)", tag("v1.0.0"), "did not match"),
        ("type=semver,pattern={{version}},match=v1", tag("v1.0.0"), "no capture group 1"),
    ],
)
def test_warnings(rules: str, context: EventContext, warning: str) -> None:
    plan = compute_tags(rules, None, None, context)
    assert any(warning in w for w in plan.warnings), plan.warnings


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "type=raw,value=x,enable=yes",
            "--tags line 1: Invalid value for enable attribute: yes "
            "in 'type=raw,value=x,enable=yes'",
        ),
        ("type=raw,value=x,enable=False", "Invalid value for enable attribute: False"),
        ("type=raw,value={{date}}", "{{date}} needs one format argument"),
        ("type=raw,value={{date tz='UTC'}}", "{{date}} needs one format argument"),
        ("type=raw,value={{commit_date 'Y' foo='x'}}", "Unknown foo attribute"),
        ("type=raw,value={{date 'Y' tz='Mars/Olympus'}}", "unknown time zone Mars/Olympus"),
        ("type=raw,value={{foo 'x'}}", 'Missing helper: "foo"'),
        ("type=raw,value={{date branch}}", "must be a quoted string"),
    ],
)
def test_evaluation_errors(rules: str, message: str) -> None:
    with pytest.raises(TagRuleError) as info:
        compute_tags(rules, None, None, PUSH_DEV)
    assert message in info.value.format_message()
    assert "\n" not in info.value.format_message()
    # worded like a parse error: where first, then the line as written
    assert info.value.format_message().startswith("--tags line 1: ")
    assert f"in {rules!r}" in info.value.format_message()


# -- protected tags ------------------------------------------------------------------------------


def test_protect_exact_version_while_others_move() -> None:
    plan = compute_tags(SEMVER_3, None, "type=semver,pattern={{version}}", tag("v1.4.2"))
    assert plan.tags == ("1.4", "1", "latest")
    assert plan.protected_tags == ("1.4.2",)
    assert plan.version == "1.4.2"
    assert plan.latest is True
    assert plan.all_tags == ("1.4", "1", "latest", "1.4.2")
    assert plan.sources["1.4.2"] == "type=semver,pattern={{version}} (--protected-tags line 1)"
    assert plan.describe()[-1] == (
        "1.4.2   from type=semver,pattern={{version}} (--protected-tags line 1) [protected]"
    )


def test_protected_rules_never_add_latest() -> None:
    plan = compute_tags("type=raw,value=edge-build", None, "type=ref,event=tag", tag("v1.4.2"))
    assert plan.protected_tags == ("v1.4.2",)
    assert plan.tags == ("edge-build",)
    assert plan.latest is False


def test_protected_use_flavor_prefix() -> None:
    plan = compute_tags(None, "prefix=r", "type=semver,pattern={{version}}", tag("v1.4.2"))
    assert plan.protected_tags == ("r1.4.2",)
    assert plan.tags == ("rv1.4.2", "latest")


def test_protected_only_on_branch_gives_nothing_protected() -> None:
    plan = compute_tags(None, None, "type=semver,pattern={{version}}", PUSH_DEV)
    assert plan.tags == ("dev",)
    assert plan.protected_tags == ()


def test_with_explicit_merges_and_validates() -> None:
    plan = compute_tags(SEMVER_3, None, None, tag("v1.4.2"))
    merged = plan.with_explicit(["stable", "1.4"], ["1.4.2"])
    assert merged.tags == ("1.4", "1", "latest", "stable")
    assert merged.protected_tags == ("1.4.2",)
    assert merged.sources["stable"] == "-t/--tag"
    assert merged.sources["1.4.2"] == "--protected-tag"
    with pytest.raises(UsageError, match="invalid tag 'v1,2'"):
        plan.with_explicit(["v1,2"])
    empty = compute_tags("type=edge", None, None, PUSH_DEV).with_explicit(["x"])
    assert (empty.version, empty.tags) == ("x", ("x",))


def test_as_dict_shape() -> None:
    data = compute_tags(SEMVER_3, None, "type=semver,pattern={{version}}", tag("v1.4.2")).as_dict()
    assert data["version"] == "1.4.2"
    assert data["tags"] == ["1.4", "1", "latest"]
    assert data["protected_tags"] == ["1.4.2"]
    assert data["latest"] is True


# -- sanitising and the Hub grammar --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("my/feature#1245", "my-feature-1245"),
        ("p1/v1.0.0", "p1-v1.0.0"),
        ("x y", "x-y"),
        ("a  ~~ b", "a-b"),
        ("Déjà/vu", "D-j-vu"),
        ("KeepCase_1.2-3", "KeepCase_1.2-3"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize(raw) == expected


def test_hub_safe() -> None:
    assert hub_safe("ok") == ("ok", None)
    fixed, note = hub_safe("-.x")
    assert fixed == "x"
    assert note is not None
    assert hub_safe("---") == ("", "removed the leading '.'/'-' the Hub does not accept")
    long, note = hub_safe("a" * 200)
    assert len(long) == HUB_TAG_MAX_LENGTH
    assert note is not None
    assert "cut" in note
    assert hub_rules.TAG.match("a" * HUB_TAG_MAX_LENGTH)
    assert not hub_rules.TAG.match("a" * (HUB_TAG_MAX_LENGTH + 1))


@settings(max_examples=150, deadline=None)
@given(
    branch=st.text(min_size=1, max_size=150).filter(lambda s: "\n" not in s and "\r" not in s),
    flavor_prefix=st.sampled_from(["", "-", ".", "x/"]),
)
def test_every_tag_fits_the_hub_grammar(branch: str, flavor_prefix: str) -> None:
    flavor = f"prefix={flavor_prefix},onlatest=true\nlatest=true" if flavor_prefix else None
    context = ctx(f"refs/heads/{branch}")
    plan = compute_tags("type=ref,event=branch\ntype=raw,value={{branch}}", flavor, None, context)
    for t in plan.all_tags:
        assert hub_rules.TAG.match(t), (branch, t)
    assert len(set(plan.all_tags)) == len(plan.all_tags)


def test_engine_input_is_not_mutated() -> None:
    context = tag("v1.1.1")
    before = context.as_dict()
    compute_tags(SEMVER_3, "prefix=x", SEMVER_3, context)
    assert context.as_dict() == before


def test_context_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EventContext(now=datetime(2020, 1, 1), commit_date=FROZEN)
    with pytest.raises(ValueError, match="at least 1"):
        EventContext(now=FROZEN, commit_date=FROZEN, short_sha_length=0)


def test_context_properties() -> None:
    assert PR.pr == "15"
    assert PR.branch == ""
    assert tag("v1").tag == "v1"
    assert PUSH_DEV.short_sha == "860c190"
    assert PUSH_MASTER.is_default_branch is True
    assert NULL.is_default_branch is False
    data: dict[str, Any] = PUSH_DEV.as_dict()
    assert data["branch"] == "dev"
    assert data["now"] == "2020-01-10T00:30:00+00:00"


def test_an_unknown_commit_date_is_said_when_a_rule_uses_it() -> None:
    """In a container where git refused the workspace and the event had no date, the current
    time stands in for {{commit_date}}: never silently."""
    unknown = ctx("refs/heads/dev", commit_date_known=False)
    rules = "type=raw,value=cd-{{commit_date 'YYYYMMDD'}}\ntype=sha"
    used = compute_tags(rules, None, None, unknown)
    assert used.tags[0] == "cd-20200110"
    assert len(used.warnings) == 1
    assert "the date of commit 860c1904a1ce is unknown" in used.warnings[0]
    assert compute_tags("type=sha", None, None, unknown).warnings == ()
    known = compute_tags(rules, None, None, ctx("refs/heads/dev"))
    assert known.warnings == ()
