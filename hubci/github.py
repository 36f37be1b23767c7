"""All GitHub access: a commit status per executor and one sticky pull-request comment.

Reporting to GitHub is a courtesy on top of the Hub push and must never fail the job: every
GitHub error (a read-only token on a fork pull request, 404, 422, 5xx, no network) becomes one
line in ``GitHubReporter.warnings`` that names the permission or setting to fix, and the method
returns False. The token is carried as a ``Secret`` (registered with the output layer's
redactor), and every description, comment and warning is redacted before it is sent or shown.

github3.py follows the URLs inside GitHub's responses; the API base comes from
``GITHUB_API_URL`` so GitHub Enterprise Server (``…/api/v3``) and the test fake work alike.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import github3
from github3 import exceptions as gh_exc
from github3.issues.comment import IssueComment
from github3.session import GitHubSession
from github3.structs import GitHubIterator
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from hubci.netguard import GuardedAdapter, guard
from hubci.output.markdown import truncate
from hubci.output.neutralize import flatten
from hubci.output.redact import redact
from hubci.secret import Secret

#: github3.py 4.x requires response fields that newer REST API versions drop: pin the version.
API_VERSION = "2022-11-28"
#: The hidden first line that identifies hubci's sticky comment on a pull request.
COMMENT_MARKER = "<!-- hubci:push -->"
#: GitHub rejects commit-status descriptions longer than this.
MAX_STATUS_DESCRIPTION = 140
#: GitHub rejects comment bodies longer than this.
MAX_COMMENT_CHARS = 65536

State = Literal["pending", "success", "failure", "error"]
STATES: frozenset[str] = frozenset(get_args(State))

_T = TypeVar("_T")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_PR_REF = re.compile(r"^refs/pull/(\d+)/")

# What each kind of call needs, named the way a workflow's `permissions:` block spells it.
_PERMISSION = {"status": "statuses: write", "comment": "pull-requests: write"}


@dataclass(frozen=True)
class GitHubContext:
    """Where to report: the repository, the commit and (on pull requests) the PR number."""

    api_url: str
    repository: str
    sha: str
    pr_number: int | None
    token: Secret
    run_url: str | None = None

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.repository.split("/", 1)[1]

    @classmethod
    def from_env(cls, env: Mapping[str, str], token: str) -> GitHubContext | None:
        """Read the Actions environment; None when there is no token, repository or commit.

        For pull-request events the status goes on the PR head commit (``GITHUB_SHA`` is the
        test merge commit there, which the PR page never shows).
        """
        repository = env.get("GITHUB_REPOSITORY", "").strip()
        token = token.strip()
        if not token or not _REPOSITORY.fullmatch(repository):
            return None
        pull = _pull_request(_event_payload(env.get("GITHUB_EVENT_PATH", "")))
        sha = str(pull.get("head_sha") or env.get("GITHUB_SHA", "")).strip()
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            return None
        number = pull.get("number")
        if number is None and env.get("GITHUB_EVENT_NAME", "").startswith("pull_request"):
            match = _PR_REF.match(env.get("GITHUB_REF", ""))
            number = int(match.group(1)) if match else None
        server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
        run_id = env.get("GITHUB_RUN_ID", "").strip()
        return cls(
            api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            repository=repository,
            sha=sha,
            pr_number=number if isinstance(number, int) else None,
            token=Secret(token),
            run_url=f"{server}/{repository}/actions/runs/{run_id}" if run_id else None,
        )


def _event_payload(path: str) -> Mapping[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pull_request(payload: Mapping[str, Any]) -> dict[str, Any]:
    """PR number and head sha from any pull_request* event payload (empty when absent)."""
    pull = payload.get("pull_request")
    if not isinstance(pull, dict):
        return {}
    head = pull.get("head")
    number = pull.get("number", payload.get("number"))
    return {
        "number": number if isinstance(number, int) and not isinstance(number, bool) else None,
        "head_sha": head.get("sha") if isinstance(head, dict) else None,
    }


@dataclass
class GitHubReporter:
    """Posts commit statuses and the sticky PR comment; collects warnings instead of raising.

    After a permission or connection failure the same kind of call is not attempted again, so a
    fork pull request yields one warning rather than one per executor.
    """

    context: GitHubContext
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    attempts: int = 3
    retry_wait: float = 1.0
    #: Longest one call may take, retries included, whatever the API drips (a watchdog).
    call_seconds: float = 60.0
    warnings: list[str] = field(default_factory=list, init=False)
    _disabled: set[str] = field(default_factory=set, init=False, repr=False)
    _repo: Any = field(default=None, init=False, repr=False)
    _issue: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        session = GitHubSession(
            default_connect_timeout=self.connect_timeout,
            default_read_timeout=self.read_timeout,
        )
        self._gh = github3.GitHub(
            token=self.context.token.reveal(), session=session, api_version=API_VERSION
        )
        self._gh.session.base_url = self.context.api_url.rstrip("/")
        adapter = GuardedAdapter()  # connections end when a call's watchdog fires
        self._gh.session.mount("https://", adapter)
        self._gh.session.mount("http://", adapter)
        # github3 sets this from api_version; keep it even if a future release stops doing so.
        self._gh.session.headers["X-GitHub-Api-Version"] = API_VERSION

    def set_status(
        self, name: str, state: State, *, description: str, target_url: str | None
    ) -> bool:
        """Create the commit status ``hubci/<name>`` on the context's commit."""
        if state not in STATES:
            msg = f"commit status state must be one of {sorted(STATES)}, not {state!r}"
            raise ValueError(msg)
        what = f"commit status hubci/{name}"

        def call() -> bool:
            repo = self._repository()
            created = repo.create_status(
                self.context.sha,
                state,
                target_url=target_url or None,
                description=_truncate(description, MAX_STATUS_DESCRIPTION),
                context=f"hubci/{name}",
            )
            return created is not None

        return self._attempt("status", what, call, retry=True)

    def upsert_pr_comment(self, body: str, *, key: str | None = None) -> bool:
        """Edit hubci's comment on the pull request, or create it; never a second one.

        The comment is the oldest one whose body starts with the marker; later ones (left by
        two runs racing to create it) are deleted.

        ``body`` is markdown; the hidden marker and a footer naming the commit are added here.
        ``key`` separates comments of jobs that report on the same PR (a matrix over executors);
        leave it None for the single comment ``<!-- hubci:push -->``.
        """
        number = self.context.pr_number
        if number is None:
            return False
        marker = COMMENT_MARKER if key is None else f"<!-- hubci:push key={_clean_key(key)} -->"
        text = self._compose(marker, body)

        def find() -> tuple[Any, list[dict[str, Any]]]:
            if self._issue is None:
                self._issue = self._repository().issue(number)
            pages = GitHubIterator(-1, self._issue.comments_url, dict, self._gh.session)
            mine = [c for c in pages if str(c.get("body") or "").lstrip().startswith(marker)]
            return self._issue, mine

        what = f"comment on pull request #{number}"
        found = self._attempt("comment", what, find, retry=True)
        if found is False:
            return False
        issue, mine = found
        if not mine:
            return self._attempt(
                "comment",
                what,
                lambda: issue.create_comment(text) is not None,
                retry=False,  # a retried POST could leave two comments behind
            )
        keep, *extra = (IssueComment(c, self._gh.session) for c in mine)
        # Two runs racing on the first comment can both create one: keep the oldest.
        for duplicate in extra:
            self._attempt("comment", f"duplicate {what}", duplicate.delete, retry=True)
        if mine[0].get("body") == text:
            return True
        return self._attempt("comment", what, lambda: bool(keep.edit(text)), retry=True)

    def _compose(self, marker: str, body: str) -> str:
        footer = f"\n\n<sub>hubci · commit {self.context.sha[:7]}"
        if self.context.run_url:
            footer += f" · [workflow run]({self.context.run_url})"
        footer += "</sub>\n"
        room = MAX_COMMENT_CHARS - len(marker) - len(footer) - 1
        body = truncate(body, room, "\n\n… (truncated: the full report is in the job summary)")
        return redact(f"{marker}\n{body.rstrip()}{footer}")

    def _repository(self) -> Any:
        if self._repo is None:
            repo = self._gh.repository(self.context.owner, self.context.repo)
            if repo is None:  # github3 returns None only for a 304 it did not ask for
                raise gh_exc.UnprocessableResponseBody("GitHub returned no repository", None)
            self._repo = repo
        return self._repo

    def _attempt(
        self, kind: str, what: str, call: Callable[[], _T], *, retry: bool
    ) -> _T | Literal[False]:
        if kind in self._disabled or "all" in self._disabled:
            return False
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts if retry else 1),
            wait=wait_exponential(multiplier=self.retry_wait, max=8 * self.retry_wait),
            retry=retry_if_exception_type((gh_exc.ServerError, gh_exc.ConnectionError)),
            reraise=True,
        )
        try:
            with guard(time.monotonic() + self.call_seconds):
                return retrying(call)
        except (gh_exc.GitHubException, TypeError) as exc:
            self._warn(kind, what, exc)
            return False

    def _warn(self, kind: str, what: str, exc: BaseException) -> None:
        line = _explain(kind, what, exc, self.context)
        self.warnings.append(flatten(redact(line)))
        scope = _disable_scope(kind, exc)
        if scope:
            self._disabled.add(scope)


def _explain(kind: str, what: str, exc: BaseException, ctx: GitHubContext) -> str:
    """One line: what failed, GitHub's answer, and what to grant or fix."""
    where = f"could not post {what} to {ctx.repository}"
    if isinstance(exc, TypeError):
        return f"{where}: GitHub returned a body github3.py cannot read ({exc}); skipped"
    if isinstance(exc, gh_exc.ConnectionError):
        return f"{where}: cannot reach the GitHub API at {ctx.api_url}; check GITHUB_API_URL"
    code = getattr(exc, "code", None)
    answer = f"GitHub answered {code} {getattr(exc, 'msg', '') or ''}".rstrip()
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if code == 401:
        return f"{where}: {answer}; the github-token is invalid or expired"
    if code == 403 and str(headers.get("X-RateLimit-Remaining", "")) == "0":
        return f"{where}: {answer}; the token's API rate limit is used up, try again later"
    if code == 403:
        return (
            f"{where}: {answer}; grant the workflow job `permissions: {_PERMISSION[kind]}` "
            "(pull requests from forks only get a read-only token, so this is expected there)"
        )
    if code == 404:
        return (
            f"{where}: {answer}; check GITHUB_REPOSITORY and that the token can see the "
            f"repository (`permissions: contents: read` and `{_PERMISSION[kind]}`)"
        )
    if code == 422:
        return f"{where}: {answer}; GitHub rejected the request as invalid"
    if isinstance(code, int) and code >= 500:
        return f"{where}: {answer} (a GitHub outage); the Hub push is not affected"
    return f"{where}: {answer or type(exc).__name__}"


def _disable_scope(kind: str, exc: BaseException) -> str | None:
    """What not to try again: everything when the token or network is bad, else this kind."""
    if isinstance(exc, gh_exc.ConnectionError) or getattr(exc, "code", None) == 401:
        return "all"
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if str(headers.get("X-RateLimit-Remaining", "")) == "0":
        return "all"
    if getattr(exc, "code", None) in (403, 404):
        return kind
    return None  # a one-off (422, 5xx after retries, unreadable body): later calls may work


def _truncate(text: str, limit: int) -> str:
    """A commit status description: redacted, one line, at most ``limit`` characters."""
    return flatten(redact(text), limit)


def _clean_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/-]+", "-", key).strip("-") or "default"
