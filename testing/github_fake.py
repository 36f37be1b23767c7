"""A loopback fake of the GitHub REST API, serving the bodies in ``github_fixtures.json``.

It answers the calls hubci makes (repository, commit statuses, issue comments with Link-header
pagination, pull requests and their files, releases by tag, compare), substitutes ``{api}``,
``{uploads}``, ``{owner}`` and ``{repo}`` with its own loopback address so that github3.py,
which follows the URLs inside responses, never leaves 127.0.0.1, and records every request
(method, path, query, headers, JSON body) for tests to assert on. Errors on demand:
``fail(...)`` answers one matching request (or several) with 403/404/422/5xx, ``read_only``
answers every write with the 403 a fork pull request's token gets, and ``token`` makes a wrong
Authorization header a 401.

Use it as a context manager or through the ``github_fake`` pytest fixture below (register it with
``pytest_plugins = ["testing.github_fake"]``)::

    with GitHubFake(owner="octo", repo="executors") as fake:
        ...  # GITHUB_API_URL=fake.url
        assert fake.requests[0].headers["x-github-api-version"] == "2022-11-28"
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

FIXTURES = Path(__file__).with_name("github_fixtures.json")
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_STATES = frozenset({"pending", "success", "failure", "error"})
_DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    host: str


@dataclass
class _Fault:
    method: str
    pattern: str
    status: int
    message: str
    times: int
    headers: dict[str, str]


@dataclass
class GitHubFake:
    """The fake server; every mutable field may be changed by a test while it runs."""

    owner: str = "octo-org"
    repo: str = "executors"
    #: When set, requests whose Authorization is not ``token <this>`` get 401 Bad credentials.
    token: str | None = None
    #: Largest comments page the fake serves, whatever ``per_page`` asks (GitHub's cap is 100).
    page_size: int = 100
    #: Answer every write with 403, as GitHub does for a fork pull request's read-only token.
    read_only: bool = False
    #: Path prefix the API lives under, e.g. "/api/v3" to look like GitHub Enterprise Server.
    prefix: str = ""
    #: Head sha reported for pull requests.
    head_sha: str = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    #: Author of issues and pull requests; None serves ``"user": null`` (a deleted account).
    author: str | None = "octocat"
    #: Tags that have a release.
    release_tags: set[str] = field(default_factory=set)
    #: Changed files reported for any pull request.
    pull_files: list[str] = field(default_factory=lambda: ["executor/config.yml"])

    requests: list[RecordedRequest] = field(default_factory=list, init=False)
    statuses: list[dict[str, Any]] = field(default_factory=list, init=False)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    _faults: list[_Fault] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _next_id: int = field(default=1000, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _fixtures: dict[str, Any] = field(default_factory=dict, init=False)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> GitHubFake:
        raw = json.loads(FIXTURES.read_text(encoding="utf-8"))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._fixtures = {
            key: _substitute(value, api=self.url, owner=self.owner, repo=self.repo)
            for key, value in raw.items()
            if not key.startswith("_")
        }
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="github-fake"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> GitHubFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            msg = "the GitHub fake is not running; call start() first"
            raise RuntimeError(msg)
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        """Scheme, host and port: where every request of a well-behaved client must go."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL (what GITHUB_API_URL would hold), no trailing slash."""
        return self.root + self.prefix

    # -- test controls ---------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        message: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and the glob ``path`` (relative
        to the API base, e.g. ``/repos/*/statuses/*``) with ``status``."""
        default = {403: "Forbidden", 404: "Not Found", 422: "Validation Failed"}
        with self._lock:
            self._faults.append(
                _Fault(
                    method.upper(),
                    path,
                    status,
                    message or default.get(status, "Server Error"),
                    times,
                    dict(headers or {}),
                )
            )

    def add_comment(self, number: int, body: str, *, user: str | None = "someone") -> int:
        """Seed a comment on issue/PR ``number``; ``user=None`` gives a deleted ("null") user."""
        with self._lock:
            return self._create_comment(number, body, user)["id"]  # type: ignore[no-any-return]

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests matching ``method`` and the glob ``path`` (relative to the base)."""
        base = len(self.prefix)
        return [
            r
            for r in list(self.requests)
            if r.method == method.upper() and fnmatch.fnmatchcase(r.path[base:], path)
        ]

    # -- request handling (called from server threads) -------------------------------------

    def _handle(self, req: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(req)
            if self.token is not None and req.headers.get("authorization") != (
                f"token {self.token}"
            ):
                return _error(401, "Bad credentials")
            if not req.path.startswith(self.prefix + "/"):
                return _error(404, "Not Found")
            path = req.path[len(self.prefix) :]
            for fault in self._faults:
                if (
                    fault.times > 0
                    and fault.method == req.method
                    and fnmatch.fnmatchcase(path, fault.pattern)
                ):
                    fault.times -= 1
                    status, body, headers = _error(fault.status, fault.message)
                    return status, body, {**headers, **fault.headers}
            if self.read_only and req.method in _WRITE_METHODS:
                return _error(403, "Resource not accessible by integration")
            return self._route(req, path)

    def _route(self, req: RecordedRequest, path: str) -> tuple[int, Any, dict[str, str]]:
        repo_prefix = f"/repos/{self.owner}/{self.repo}"
        if path == repo_prefix and req.method == "GET":
            return 200, self._fixture("repository"), {}
        if not path.startswith(repo_prefix + "/"):
            return _error(404, "Not Found")
        rest, method = path[len(repo_prefix) :], req.method
        body = req.body if isinstance(req.body, dict) else {}
        if m := re.fullmatch(r"/statuses/([0-9a-f]{40})", rest):
            return self._post_status(m[1], body) if method == "POST" else _not_allowed()
        if m := re.fullmatch(r"/commits/([^/]+)/statuses", rest):
            return self._list_statuses(m[1]) if method == "GET" else _not_allowed()
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            return (
                (200, self._issue_json(int(m[1]), "issue"), {})
                if method == "GET"
                else _not_allowed()
            )
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            if method == "GET":
                return self._list_comments(int(m[1]), req.query)
            return self._post_comment(int(m[1]), body) if method == "POST" else _not_allowed()
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            if method == "GET":
                return self._get_comment(int(m[1]))
            if method == "DELETE":
                return self._delete_comment(int(m[1]))
            return self._patch_comment(int(m[1]), body) if method == "PATCH" else _not_allowed()
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            pull = self._issue_json(int(m[1]), "pull_request")
            return (200, pull, {}) if method == "GET" else _not_allowed()
        if rest.startswith("/pulls/") and rest.endswith("/files") and method == "GET":
            template = self._fixture("pull_files")[0]
            return 200, [{**template, "filename": name} for name in self.pull_files], {}
        if m := re.fullmatch(r"/releases/tags/(.+)", rest):
            return self._get_release(m[1]) if method == "GET" else _not_allowed()
        if rest.startswith("/compare/") and "..." in rest and method == "GET":
            return 200, self._fixture("comparison"), {}
        return _error(404, "Not Found")

    def _fixture(self, name: str) -> Any:
        return copy.deepcopy(self._fixtures[name])

    def _post_status(self, sha: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if body.get("state") not in _STATES:
            return _error(422, "Validation Failed: state is not included in the list")
        if len(str(body.get("description") or "")) > 140:
            return _error(422, "Validation Failed: description is too long (maximum is 140)")
        status = self._fixture("status")
        self._next_id += 1
        status.update(
            id=self._next_id,
            url=f"{self.url}/repos/{self.owner}/{self.repo}/statuses/{sha}",
            state=body["state"],
            description=body.get("description"),
            target_url=body.get("target_url"),
            context=body.get("context") or "default",
        )
        self.statuses.append({"sha": sha, **status})
        return 201, status, {}

    def _list_statuses(self, ref: str) -> tuple[int, Any, dict[str, str]]:
        found = [s for s in reversed(self.statuses) if s["sha"] == ref]
        return 200, [{k: v for k, v in s.items() if k != "sha"} for s in found], {}

    def _issue_json(self, number: int, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = self._fixture(kind)
        base = f"{self.url}/repos/{self.owner}/{self.repo}"
        html = f"https://github.com/{self.owner}/{self.repo}"
        data.update(
            number=number,
            url=f"{base}/{'pulls' if kind == 'pull_request' else 'issues'}/{number}",
            comments_url=f"{base}/issues/{number}/comments",
            html_url=f"{html}/{'pull' if kind == 'pull_request' else 'issues'}/{number}",
        )
        if kind == "pull_request":
            data.update(
                issue_url=f"{base}/issues/{number}",
                commits_url=f"{base}/pulls/{number}/commits",
                review_comments_url=f"{base}/pulls/{number}/comments",
                statuses_url=f"{base}/statuses/{self.head_sha}",
            )
            data["head"]["sha"] = self.head_sha
        else:
            data.update(
                labels_url=f"{base}/issues/{number}/labels{{/name}}",
                events_url=f"{base}/issues/{number}/events",
                pull_request={"url": f"{base}/pulls/{number}", "html_url": f"{html}/pull/{number}"},
            )
        if self.author is None:
            data["user"] = None
        else:
            data["user"]["login"] = self.author
        return data

    def _list_comments(
        self, number: int, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        items = self.comments.get(number, [])
        try:
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            return _error(422, "Validation Failed: per_page and page must be integers")
        size = max(1, min(per_page, self.page_size, 100))
        last = max(1, -(-len(items) // size))
        body = copy.deepcopy(items[(page - 1) * size : page * size])
        links = []
        here = f"{self.url}/repos/{self.owner}/{self.repo}/issues/{number}/comments"
        if page < last:
            links.append(f'<{here}?{urlencode({"per_page": size, "page": page + 1})}>; rel="next"')
            links.append(f'<{here}?{urlencode({"per_page": size, "page": last})}>; rel="last"')
        return 200, body, ({"Link": ", ".join(links)} if links else {})

    def _create_comment(self, number: int, body: str, user: str | None) -> dict[str, Any]:
        comment: dict[str, Any] = self._fixture("issue_comment")
        self._next_id += 1
        base = f"{self.url}/repos/{self.owner}/{self.repo}"
        comment.update(
            id=self._next_id,
            url=f"{base}/issues/comments/{self._next_id}",
            html_url=f"https://github.com/{self.owner}/{self.repo}/pull/{number}"
            f"#issuecomment-{self._next_id}",
            issue_url=f"{base}/issues/{number}",
            body=body,
            body_text=body,
            body_html=f"<p>{body}</p>",
        )
        if user is None:
            comment["user"] = None
        else:
            comment["user"]["login"] = user
        self.comments.setdefault(number, []).append(comment)
        return comment

    def _post_comment(
        self, number: int, request: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        body = request.get("body")
        if not isinstance(body, str) or not body:
            return _error(422, "Validation Failed: body is missing")
        created = self._create_comment(number, body, "github-actions[bot]")
        return 201, copy.deepcopy(created), {}

    def _find_comment(self, comment_id: int) -> dict[str, Any] | None:
        for items in self.comments.values():
            for comment in items:
                if comment["id"] == comment_id:
                    return comment
        return None

    def _get_comment(self, cid: int) -> tuple[int, Any, dict[str, str]]:
        comment = self._find_comment(cid)
        return (200, copy.deepcopy(comment), {}) if comment else _error(404, "Not Found")

    def _patch_comment(self, cid: int, request: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        comment = self._find_comment(cid)
        if comment is None:
            return _error(404, "Not Found")
        body = request.get("body")
        if not isinstance(body, str) or not body:
            return _error(422, "Validation Failed: body is missing")
        comment.update(body=body, body_text=body, body_html=f"<p>{body}</p>")
        return 200, copy.deepcopy(comment), {}

    def _delete_comment(self, cid: int) -> tuple[int, Any, dict[str, str]]:
        for items in self.comments.values():
            for index, comment in enumerate(items):
                if comment["id"] == cid:
                    del items[index]
                    return 204, None, {}
        return _error(404, "Not Found")

    def _get_release(self, tag: str) -> tuple[int, Any, dict[str, str]]:
        if tag not in self.release_tags:
            return _error(404, "Not Found")
        release = self._fixture("release")
        release["tag_name"] = tag
        return 200, release, {}


def _substitute(value: Any, *, api: str, owner: str, repo: str) -> Any:
    if isinstance(value, str):
        return (
            value.replace("{api}", api)
            .replace("{uploads}", api)
            .replace("{owner}", owner)
            .replace("{repo}", repo)
        )
    if isinstance(value, list):
        return [_substitute(v, api=api, owner=owner, repo=repo) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, api=api, owner=owner, repo=repo) for k, v in value.items()}
    return value


def _not_allowed() -> tuple[int, Any, dict[str, str]]:
    return _error(405, "Method Not Allowed")


def _error(status: int, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"message": message, "documentation_url": _DOCS}, {}


def _handler_for(fake: GitHubFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "github-fake"
        disable_nagle_algorithm = True  # headers and body go out in two writes
        timeout = 10  # idle keep-alive connections must not outlive a test by much

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                host=self.headers.get("Host", ""),
            )
            status, payload, headers = fake._handle(request)
            data = b"" if status == 204 else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``fake.requests`` instead of a log."""

    return Handler


@pytest.fixture
def github_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubFake]:
    """A running fake for owner ``octo-org``, repository ``executors``; stopped afterwards.

    Loopback is exempted from any HTTP(S)_PROXY of the machine, for this process and the
    subprocesses a test starts, so requests really reach the fake.
    """
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with GitHubFake() as fake:
        yield fake
