"""GitHubReporter against the loopback fake: statuses, the sticky comment, and every failure."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from hubci.github import COMMENT_MARKER, MAX_COMMENT_CHARS, GitHubContext, GitHubReporter
from hubci.secret import Secret
from testing.github_fake import GitHubFake

TOKEN = "ghs_sentinelTOKEN0123456789abcdefABCDEF"
SHA = "0123456789abcdef0123456789abcdef01234567"
PR = 42


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket of this process connects to while the test runs."""
    seen: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        seen.append(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
        ):
            msg = f"test tried to leave the machine: {address!r}"
            raise AssertionError(msg)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def fake(github_fake: GitHubFake, connections: list[Any]) -> GitHubFake:
    """The shared fake (owner octo-org, repository executors), checking the token."""
    github_fake.token = TOKEN
    return github_fake


Reporter = Callable[..., GitHubReporter]


@pytest.fixture
def make_reporter(fake: GitHubFake) -> Reporter:
    """A reporter on the fake; keyword arguments override the context (pr_number, api_url…)."""

    def make(**overrides: Any) -> GitHubReporter:
        values: dict[str, Any] = {
            "api_url": fake.url,
            "repository": f"{fake.owner}/{fake.repo}",
            "sha": SHA,
            "pr_number": PR,
            "token": Secret(TOKEN),
            "run_url": "https://github.com/octo-org/executors/actions/runs/77",
        }
        values.update(overrides)
        return GitHubReporter(GitHubContext(**values), retry_wait=0)

    return make


HUB_PAGE = "https://cloud.jina.ai/executor/abc123"


def _comment_bodies(fake: GitHubFake, number: int = PR) -> list[str]:
    return [c["body"] for c in fake.comments.get(number, [])]


def _no_token_anywhere(reporter: GitHubReporter, caplog: pytest.LogCaptureFixture) -> None:
    assert all(TOKEN not in w for w in reporter.warnings)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(reporter)
    assert TOKEN not in repr(reporter.context)


# -- commit statuses ---------------------------------------------------------------------------


def test_status_per_executor_with_context_target_url_and_sha(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    reporter = make_reporter()
    assert reporter.set_status("EchoA", "pending", description="building", target_url=HUB_PAGE)
    assert reporter.set_status("EchoB", "pending", description="building", target_url=None)
    assert reporter.set_status("EchoA", "success", description="built 1.2", target_url=HUB_PAGE)

    posts = fake.calls("POST", "/repos/octo-org/executors/statuses/*")
    assert [p.path.rsplit("/", 1)[1] for p in posts] == [SHA] * 3
    assert [p.body for p in posts] == [
        {
            "state": "pending",
            "description": "building",
            "target_url": HUB_PAGE,
            "context": "hubci/EchoA",
        },
        {"state": "pending", "description": "building", "context": "hubci/EchoB"},
        {
            "state": "success",
            "description": "built 1.2",
            "target_url": HUB_PAGE,
            "context": "hubci/EchoA",
        },
    ]
    # the repository is looked up once, not once per status
    assert len(fake.calls("GET", "/repos/octo-org/executors")) == 1
    assert reporter.warnings == []


def test_status_description_is_one_line_of_at_most_140_chars(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    reporter = make_reporter()
    long = "build failed:\n" + "pip could not resolve torch " * 20
    assert reporter.set_status("Echo", "failure", description=long, target_url=None)
    sent = fake.statuses[-1]["description"]
    assert len(sent) == 140
    assert "\n" not in sent
    assert sent.startswith("build failed: pip could not resolve torch")
    assert sent.endswith("…")


def test_unknown_state_is_a_programming_error(make_reporter: Reporter) -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        make_reporter().set_status("Echo", "done", description="", target_url=None)  # type: ignore[arg-type]


# -- the sticky comment ------------------------------------------------------------------------


def test_sticky_comment_created_on_first_run_and_edited_on_second(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    fake.add_comment(PR, "LGTM", user="reviewer")
    assert make_reporter().upsert_pr_comment("## hubci\nplan: push `Echo:1.2`")
    assert len(fake.calls("POST", f"/repos/octo-org/executors/issues/{PR}/comments")) == 1
    first = _comment_bodies(fake)[1]
    assert first.splitlines()[0] == COMMENT_MARKER
    assert "plan: push `Echo:1.2`" in first
    assert f"commit {SHA[:7]}" in first
    assert "[workflow run](https://github.com/octo-org/executors/actions/runs/77)" in first

    # a second job run: a new reporter, as the Action would build it
    assert make_reporter().upsert_pr_comment("## hubci\nresult: `Echo:1.2` built")
    assert len(fake.calls("POST", f"/repos/octo-org/executors/issues/{PR}/comments")) == 1
    patches = fake.calls("PATCH", "/repos/octo-org/executors/issues/comments/*")
    assert len(patches) == 1
    assert patches[0].body["body"].startswith(COMMENT_MARKER + "\n## hubci\nresult:")
    bodies = _comment_bodies(fake)
    assert bodies[0] == "LGTM"
    assert len(bodies) == 2
    assert "result: `Echo:1.2` built" in bodies[1]
    assert "plan:" not in bodies[1]


def test_marker_found_on_page_two_is_edited_not_duplicated(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    fake.page_size = 2
    fake.add_comment(PR, "first", user="a")
    fake.add_comment(PR, "a ghost wrote this", user=None)  # deleted account: "user": null
    fake.add_comment(PR, "> quoting <!-- hubci:push --> is not the sticky comment", user="b")
    mine = fake.add_comment(PR, f"{COMMENT_MARKER}\nold plan", user="github-actions[bot]")
    fake.add_comment(PR, "after", user="c")

    reporter = make_reporter()
    assert reporter.upsert_pr_comment("new result")
    assert reporter.warnings == []

    pages = fake.calls("GET", f"/repos/octo-org/executors/issues/{PR}/comments")
    assert [p.query.get("page", ["1"])[0] for p in pages] == ["1", "2", "3"]
    assert fake.calls("POST", "/repos/*/issues/*/comments") == []
    patches = fake.calls("PATCH", "/repos/octo-org/executors/issues/comments/*")
    assert [p.path.rsplit("/", 1)[1] for p in patches] == [str(mine)]
    assert "new result" in _comment_bodies(fake)[3]


def test_duplicates_from_racing_runs_are_removed(fake: GitHubFake, make_reporter: Reporter) -> None:
    fake.page_size = 2
    fake.add_comment(PR, "LGTM", user="reviewer")
    oldest = fake.add_comment(PR, f"{COMMENT_MARKER}\nrun A", user="github-actions[bot]")
    newer = fake.add_comment(PR, f"{COMMENT_MARKER}\nrun B", user="github-actions[bot]")
    reporter = make_reporter()
    assert reporter.upsert_pr_comment("run C")
    deletes = fake.calls("DELETE", "/repos/octo-org/executors/issues/comments/*")
    assert [d.path.rsplit("/", 1)[1] for d in deletes] == [str(newer)]
    patches = fake.calls("PATCH", "/repos/octo-org/executors/issues/comments/*")
    assert [p.path.rsplit("/", 1)[1] for p in patches] == [str(oldest)]
    bodies = _comment_bodies(fake)
    assert len(bodies) == 2
    assert bodies[0] == "LGTM"
    assert "run C" in bodies[1]
    assert reporter.warnings == []


def test_unchanged_comment_is_not_rewritten(fake: GitHubFake, make_reporter: Reporter) -> None:
    assert make_reporter().upsert_pr_comment("same")
    assert make_reporter().upsert_pr_comment("same")
    assert fake.calls("PATCH", "/repos/*") == []
    assert len(_comment_bodies(fake)) == 1


def test_keyed_comments_are_separate_sticky_comments(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    reporter = make_reporter()
    assert reporter.upsert_pr_comment("plain")
    assert reporter.upsert_pr_comment("exec one", key="matrix exec1")
    assert reporter.upsert_pr_comment("exec one again", key="matrix exec1")
    bodies = _comment_bodies(fake)
    assert len(bodies) == 2
    assert bodies[0].startswith(COMMENT_MARKER + "\nplain")
    assert bodies[1].startswith("<!-- hubci:push key=matrix-exec1 -->\nexec one again")


def test_oversized_body_is_truncated_under_githubs_limit(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    assert make_reporter().upsert_pr_comment("x" * (MAX_COMMENT_CHARS + 500))
    body = _comment_bodies(fake)[0]
    assert len(body) <= MAX_COMMENT_CHARS
    assert "truncated: the full report is in the job summary" in body
    assert body.startswith(COMMENT_MARKER)


def test_no_pull_request_means_no_comment_and_no_request(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    reporter = make_reporter(pr_number=None)
    assert reporter.upsert_pr_comment("anything") is False
    assert fake.requests == []
    assert reporter.warnings == []


# -- the wire: headers, token, loopback ------------------------------------------------------


def test_every_request_has_api_version_and_token_and_stays_on_loopback(
    fake: GitHubFake, make_reporter: Reporter, connections: list[Any]
) -> None:
    fake.page_size = 1
    fake.add_comment(PR, "someone else")
    reporter = make_reporter()
    assert reporter.set_status("Echo", "pending", description="", target_url=HUB_PAGE)
    assert reporter.upsert_pr_comment("one")
    assert reporter.upsert_pr_comment("two")

    assert len(fake.requests) >= 8
    for request in fake.requests:
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["authorization"] == f"token {TOKEN}"
        assert request.headers["accept"] == "application/vnd.github.v3.full+json"
        assert request.host == f"127.0.0.1:{fake.port}"
    # github3 followed the URLs in the responses (repo url, comment url, Link next) and every
    # socket it opened went to the fake
    assert connections
    assert {address[:2] for address in connections} == {("127.0.0.1", fake.port)}


def test_enterprise_style_base_url_with_path_prefix(
    connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with GitHubFake(owner="octo-org", repo="executors", prefix="/api/v3") as ghes:
        ctx = GitHubContext(ghes.url + "/", "octo-org/executors", SHA, PR, Secret(TOKEN), None)
        reporter = GitHubReporter(ctx, retry_wait=0)
        assert reporter.set_status("Echo", "success", description="ok", target_url=None)
        assert reporter.upsert_pr_comment("on GHES")
        assert all(r.path.startswith("/api/v3/repos/octo-org/executors") for r in ghes.requests)
        assert reporter.warnings == []


# -- failures become one warning, never an exception -------------------------------------------


def test_fork_pull_request_read_only_token_warns_once_per_kind(
    fake: GitHubFake, make_reporter: Reporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.read_only = True
    reporter = make_reporter()
    assert reporter.set_status("EchoA", "pending", description="", target_url=None) is False
    assert reporter.set_status("EchoB", "pending", description="", target_url=None) is False
    assert reporter.upsert_pr_comment("plan") is False
    assert reporter.upsert_pr_comment("plan again") is False

    assert len(fake.calls("POST", "/repos/*/statuses/*")) == 1  # not retried, not repeated
    assert len(fake.calls("POST", "/repos/*/issues/*/comments")) == 1
    assert len(reporter.warnings) == 2
    status_warning, comment_warning = reporter.warnings
    assert "commit status hubci/EchoA" in status_warning
    assert "403 Resource not accessible by integration" in status_warning
    assert "permissions: statuses: write" in status_warning
    assert "forks" in status_warning
    assert f"comment on pull request #{PR}" in comment_warning
    assert "permissions: pull-requests: write" in comment_warning
    assert all("\n" not in w for w in reporter.warnings)
    _no_token_anywhere(reporter, caplog)


def test_repository_not_found(
    fake: GitHubFake, make_reporter: Reporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reporter = make_reporter(repository="octo-org/missing")
    assert reporter.set_status("Echo", "pending", description="", target_url=None) is False
    assert reporter.warnings == [
        "could not post commit status hubci/Echo to octo-org/missing: GitHub answered 404 "
        "Not Found; check GITHUB_REPOSITORY and that the token can see the repository "
        "(`permissions: contents: read` and `statuses: write`)"
    ]
    _no_token_anywhere(reporter, caplog)


def test_pull_request_not_found_does_not_stop_statuses(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    fake.fail("GET", f"/repos/*/issues/{PR}", 404)
    reporter = make_reporter()
    assert reporter.upsert_pr_comment("plan") is False
    assert "GitHub answered 404 Not Found" in reporter.warnings[0]
    assert reporter.set_status("Echo", "success", description="", target_url=None)
    assert len(reporter.warnings) == 1


def test_server_error_is_retried_then_succeeds(fake: GitHubFake, make_reporter: Reporter) -> None:
    fake.fail("POST", "/repos/*/statuses/*", 503)
    reporter = make_reporter()
    assert reporter.set_status("Echo", "success", description="", target_url=None)
    assert len(fake.calls("POST", "/repos/*/statuses/*")) == 2
    assert reporter.warnings == []


def test_persistent_server_error_gives_up_with_a_warning_and_later_calls_still_try(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    fake.fail("POST", "/repos/*/statuses/*", 500, times=3)
    reporter = make_reporter()
    assert reporter.set_status("Echo", "pending", description="", target_url=None) is False
    assert len(fake.calls("POST", "/repos/*/statuses/*")) == 3
    assert reporter.warnings == [
        "could not post commit status hubci/Echo to octo-org/executors: GitHub answered 500 "
        "Server Error (a GitHub outage); the Hub push is not affected"
    ]
    assert reporter.set_status("Echo", "success", description="", target_url=None)


def test_failed_comment_creation_is_never_retried(
    fake: GitHubFake, make_reporter: Reporter
) -> None:
    fake.fail("POST", "/repos/*/issues/*/comments", 502)
    reporter = make_reporter()
    assert reporter.upsert_pr_comment("plan") is False
    assert len(fake.calls("POST", "/repos/*/issues/*/comments")) == 1
    assert "502" in reporter.warnings[0]


def test_unprocessable_entity(fake: GitHubFake, make_reporter: Reporter) -> None:
    fake.fail("POST", "/repos/*/statuses/*", 422, message="Validation Failed")
    reporter = make_reporter()
    assert reporter.set_status("Echo", "error", description="", target_url=None) is False
    assert reporter.warnings[0].endswith(
        "GitHub answered 422 Validation Failed; GitHub rejected the request as invalid"
    )


def test_rate_limited(fake: GitHubFake, make_reporter: Reporter) -> None:
    fake.fail(
        "GET",
        "/repos/octo-org/executors",
        403,
        message="API rate limit exceeded",
        headers={"X-RateLimit-Remaining": "0"},
    )
    reporter = make_reporter()
    assert reporter.set_status("Echo", "pending", description="", target_url=None) is False
    assert reporter.upsert_pr_comment("plan") is False
    assert len(fake.requests) == 1
    assert reporter.warnings == [
        "could not post commit status hubci/Echo to octo-org/executors: GitHub answered 403 "
        "API rate limit exceeded; the token's API rate limit is used up, try again later"
    ]


def test_bad_credentials_stop_all_reporting(
    fake: GitHubFake, make_reporter: Reporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.token = "ghs_someOtherToken"
    reporter = make_reporter()
    assert reporter.set_status("Echo", "pending", description="", target_url=None) is False
    assert reporter.upsert_pr_comment("plan") is False
    assert len(fake.requests) == 1
    assert reporter.warnings == [
        "could not post commit status hubci/Echo to octo-org/executors: GitHub answered 401 "
        "Bad credentials; the github-token is invalid or expired"
    ]
    _no_token_anywhere(reporter, caplog)


def test_null_user_in_a_response_is_a_warning(fake: GitHubFake, make_reporter: Reporter) -> None:
    fake.author = None  # the pull request's author deleted their account
    reporter = make_reporter()
    assert reporter.upsert_pr_comment("plan") is False
    assert "GitHub returned a body github3.py cannot read" in reporter.warnings[0]
    assert reporter.set_status("Echo", "pending", description="", target_url=None)


def test_unreachable_api_is_a_warning_and_is_not_tried_again(
    make_reporter: Reporter, connections: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    reporter = make_reporter(api_url=closed)
    assert reporter.set_status("Echo", "pending", description="", target_url=None) is False
    tried = len(connections)
    assert tried == 3  # connection errors are retried
    assert reporter.upsert_pr_comment("plan") is False
    assert len(connections) == tried
    assert reporter.warnings == [
        "could not post commit status hubci/Echo to octo-org/executors: cannot reach the "
        f"GitHub API at {closed}; check GITHUB_API_URL"
    ]
    _no_token_anywhere(reporter, caplog)


def test_an_api_that_drips_its_answer_cannot_hold_the_job() -> None:
    """The repository lookup against an API that sends one header byte a second ends at the
    call's watchdog, as one warning (the socket read timeout alone would never end it)."""
    import time

    from testing.hostile_hub import HostileHub

    api = HostileHub("drip-headers", "repo").start()  # GET /repos/octo/repo
    try:
        context = GitHubContext(api.url, "octo/repo", SHA, PR, Secret(TOKEN))
        reporter = GitHubReporter(context, attempts=1, call_seconds=2.0)
        started = time.monotonic()
        assert reporter.set_status("x", "pending", description="d", target_url=None) is False
        assert time.monotonic() - started < 15
        assert len(reporter.warnings) == 1
        assert "cannot reach the GitHub API" in reporter.warnings[0]
        assert TOKEN not in reporter.warnings[0]
    finally:
        api.stop()
