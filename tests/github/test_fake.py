"""The loopback fake itself: its bodies satisfy github3.py and all their URLs point back at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import github3
import pytest
import requests
from github3 import exceptions as gh_exc

from testing.github_fake import FIXTURES, GitHubFake

TOKEN = "ghs_fakeSelfTest0123456789"


@pytest.fixture
def fake(github_fake: GitHubFake) -> GitHubFake:
    """The shared fixture (owner octo-org, repository executors), with a token to check."""
    github_fake.token = TOKEN
    return github_fake


@pytest.fixture
def gh(fake: GitHubFake) -> Any:
    client = github3.GitHub(token=TOKEN, api_version="2022-11-28")
    client.session.base_url = fake.url
    return client


def _urls(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)


def test_every_api_url_in_a_served_body_points_at_the_fake(fake: GitHubFake) -> None:
    headers = {"Authorization": f"token {TOKEN}"}
    base = f"{fake.url}/repos/octo-org/executors"
    bodies = [
        requests.get(f"{base}{path}", headers=headers, timeout=10).json()
        for path in ("", "/issues/3", "/pulls/3", "/pulls/3/files", "/compare/main...topic")
    ]
    api_urls = [u for u in _urls(bodies) if "api.github.com" in u or "127.0.0.1" in u]
    assert api_urls
    assert all(u.startswith(fake.url + "/") for u in api_urls)
    # the raw fixtures hold placeholders only, so nothing was missed by the substitution
    raw = json.loads(FIXTURES.read_text(encoding="utf-8"))
    assert not [u for u in _urls(raw) if "api.github.com" in u]


def test_pull_request_and_changed_files(fake: GitHubFake, gh: Any) -> None:
    fake.pull_files = ["exec1/config.yml", "exec2/executor.py"]
    fake.head_sha = "a" * 40
    pull = gh.pull_request("octo-org", "executors", 12)
    assert pull.number == 12
    assert pull.head.sha == "a" * 40
    assert [f.filename for f in pull.files()] == ["exec1/config.yml", "exec2/executor.py"]


def test_release_from_tag_and_a_missing_tag(fake: GitHubFake, gh: Any) -> None:
    fake.release_tags.add("v1.2.0")
    repo = gh.repository("octo-org", "executors")
    assert repo.release_from_tag("v1.2.0").tag_name == "v1.2.0"
    with pytest.raises(gh_exc.NotFoundError):
        repo.release_from_tag("v9.9.9")


def test_compare_lists_changed_files(gh: Any) -> None:
    comparison = gh.repository("octo-org", "executors").compare_commits("main", "topic")
    assert [f["filename"] for f in comparison.files] == ["file1.txt"]


def test_statuses_are_listed_newest_first(fake: GitHubFake, gh: Any) -> None:
    repo = gh.repository("octo-org", "executors")
    sha = "b" * 40
    repo.create_status(sha, "pending", context="hubci/Echo")
    repo.create_status(sha, "success", context="hubci/Echo")
    listed = requests.get(
        f"{fake.url}/repos/octo-org/executors/commits/{sha}/statuses",
        headers={"Authorization": f"token {TOKEN}"},
        timeout=10,
    ).json()
    assert [(s["state"], s["context"]) for s in listed] == [
        ("success", "hubci/Echo"),
        ("pending", "hubci/Echo"),
    ]


def test_faults_are_served_the_requested_number_of_times(fake: GitHubFake, gh: Any) -> None:
    fake.fail("GET", "/repos/octo-org/executors", 500, times=2)
    for _ in range(2):
        with pytest.raises(gh_exc.ServerError):
            gh.repository("octo-org", "executors")
    assert gh.repository("octo-org", "executors").full_name == "octocat/Hello-World"


def test_wrong_token_and_unknown_repository(fake: GitHubFake, gh: Any) -> None:
    with pytest.raises(gh_exc.NotFoundError):
        gh.repository("octo-org", "other")
    fake.token = "ghs_rotated"
    with pytest.raises(gh_exc.AuthenticationFailed):
        gh.repository("octo-org", "executors")


def test_comment_pages_carry_next_and_last_links(fake: GitHubFake) -> None:
    fake.page_size = 2
    for i in range(5):
        fake.add_comment(3, f"c{i}")
    first = requests.get(
        f"{fake.url}/repos/octo-org/executors/issues/3/comments",
        params={"per_page": 100},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=10,
    )
    assert [c["body"] for c in first.json()] == ["c0", "c1"]
    assert first.links["next"]["url"].endswith("per_page=2&page=2")
    assert first.links["last"]["url"].endswith("per_page=2&page=3")
    last = requests.get(
        first.links["last"]["url"], headers={"Authorization": f"token {TOKEN}"}, timeout=10
    )
    assert [c["body"] for c in last.json()] == ["c4"]
    assert "next" not in last.links
