"""Resolve the event context once: from GitHub Actions, or from the local git repository.

In GitHub Actions (``GITHUB_ACTIONS=true`` or ``GITHUB_REF`` set) the ref and sha come from
``GITHUB_REF`` / ``GITHUB_SHA`` and the event payload at ``GITHUB_EVENT_PATH``, with the
``pull_request_target`` rewrite and ``DOCKER_METADATA_PR_HEAD_SHA`` as metadata-action does them.
Elsewhere they come from git: the current branch, or for a detached HEAD the tag (then pull ref,
then remote branch) pointing at it. ``--ref`` / ``--sha`` override both. See
docs/tags.md#where-the-event-comes-from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hubci.errors import ConfigError, UsageError
from hubci.output.commands import is_github_actions
from hubci.tags.event import ContextSource, EventContext
from hubci.tags.git import Git, GitUnavailable

__all__ = ["load_payload", "resolve_context"]

_PULL_MERGE = re.compile(r"(?:^|/)pull/(\d+)/merge$")
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")
SHORT_SHA_ENV = "DOCKER_METADATA_SHORT_SHA_LENGTH"
PR_HEAD_SHA_ENV = "DOCKER_METADATA_PR_HEAD_SHA"


def load_payload(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The event payload at ``GITHUB_EVENT_PATH`` (``{}`` without one) and any warnings."""
    path_text = env.get("GITHUB_EVENT_PATH", "")
    if not path_text:
        return {}, []
    path = Path(path_text)
    if not path.is_file():
        return {}, [f"GITHUB_EVENT_PATH {path_text} does not exist; using an empty payload"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the event payload {path_text}: {exc}"
        raise ConfigError(msg, "point GITHUB_EVENT_PATH at the event JSON") from exc
    except json.JSONDecodeError as exc:
        msg = f"the event payload {path_text} is not valid JSON ({exc.msg}, line {exc.lineno})"
        raise ConfigError(msg, "point GITHUB_EVENT_PATH at the event JSON") from exc
    if not isinstance(data, dict):
        msg = f"the event payload {path_text} is not a JSON object"
        raise ConfigError(msg, "point GITHUB_EVENT_PATH at the event JSON")
    return data, []


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _now(env: Mapping[str, str], now: datetime | None) -> datetime:
    if now is not None:
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            msg = f"SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, got {epoch!r}"
            raise UsageError(msg, "unset it or set it to e.g. $(git log -1 --format=%ct)") from exc
    return datetime.now(timezone.utc)


def _short_sha_length(env: Mapping[str, str], value: int | None) -> int:
    if value is not None:
        if value < 1:
            msg = f"the short sha length must be at least 1, got {value}"
            raise UsageError(msg)
        return value
    text = env.get(SHORT_SHA_ENV, "").strip()
    if not text:
        return 7
    if not re.fullmatch("[0-9]+", text) or int(text) < 1:
        msg = f"{SHORT_SHA_ENV} is not a valid number: {text}"
        raise UsageError(msg, "set it to a whole number of characters, e.g. 12")
    return int(text)


def _commit_date(payload: Mapping[str, Any], sha: str) -> datetime | None:
    """From the payload: ``commits[]`` entry with this id, else ``head_commit`` if it matches."""
    commits = payload.get("commits")
    if isinstance(commits, list):
        for commit in commits:
            if isinstance(commit, dict) and commit.get("id") == sha:
                found = _parse_timestamp(commit.get("timestamp"))
                if found:
                    return found
    head = payload.get("head_commit")
    if isinstance(head, dict) and head.get("id") == sha:
        return _parse_timestamp(head.get("timestamp"))
    return None


class _Repo:
    """Lazy access to the git repository at ``cwd``; remembers whether there is one."""

    def __init__(self, cwd: Path) -> None:
        self.git = Git(cwd)
        self._error: GitUnavailable | None = None
        self._checked = False

    @property
    def error(self) -> GitUnavailable | None:
        if not self._checked:
            self._checked = True
            try:
                self.git.check_repository()
            except GitUnavailable as exc:
                self._error = exc
        return self._error

    @property
    def usable(self) -> bool:
        return self.error is None

    def require(self) -> Git:
        if self.error is not None:
            raise self.error
        return self.git


def _detached_ref(git: Git) -> str:
    decorations = git.head_decorations()
    for item in decorations:
        if item.startswith("tag: "):
            return "refs/tags/" + item[len("tag: ") :]
    for item in decorations:
        match = _PULL_MERGE.search(item)
        if match:
            return f"refs/pull/{match.group(1)}/merge"
    remotes = git.remotes()
    for item in decorations:
        remote, _, branch = item.partition("/")
        if remote in remotes and branch and branch != "HEAD":
            return "refs/heads/" + branch
    for item in decorations:
        if item != "HEAD" and git.ref_exists("refs/heads/" + item):
            return "refs/heads/" + item
    sha = git.rev("HEAD")
    where = f"at {sha[:12]}" if sha else "on no commit"
    msg = f"HEAD is detached {where} and no tag or branch points at it"
    raise UsageError(msg, "pass --ref, e.g. --ref refs/tags/v1.2.3")


def _normalize_ref(ref: str, repo: _Repo) -> str:
    ref = ref.strip()
    if ref.startswith("refs/"):
        return ref
    if ref and repo.usable:
        for prefix in ("refs/tags/", "refs/heads/"):
            if repo.git.ref_exists(prefix + ref):
                return prefix + ref
    msg = f"--ref {ref!r} is not a full ref"
    hint = "write refs/tags/<tag>, refs/heads/<branch> or refs/pull/<n>/merge"
    if ref and repo.usable:
        msg += " and names no local tag or branch"
    raise UsageError(msg, hint)


def _check_sha(sha: str) -> str:
    sha = sha.strip()
    if not _SHA.match(sha):
        msg = f"--sha {sha!r} is not a commit sha"
        raise UsageError(msg, "give 4-64 hexadecimal characters, e.g. --sha $(git rev-parse HEAD)")
    return sha.lower()


def resolve_context(
    *,
    env: Mapping[str, str],
    cwd: Path,
    ref: str | None = None,
    sha: str | None = None,
    default_branch: str | None = None,
    now: datetime | None = None,
    pr_head_sha: bool | None = None,
    short_sha_length: int | None = None,
) -> EventContext:
    """Resolve the event context once (all the I/O of the tags feature happens here).

    ``pr_head_sha`` / ``short_sha_length`` default to ``DOCKER_METADATA_PR_HEAD_SHA`` /
    ``DOCKER_METADATA_SHORT_SHA_LENGTH``; ``now`` defaults to ``SOURCE_DATE_EPOCH``, else the clock.
    Raises :class:`~hubci.errors.UsageError` when the ref cannot be known.
    """
    current = _now(env, now)
    sha_length = _short_sha_length(env, short_sha_length)
    use_head_sha = (
        pr_head_sha
        if pr_head_sha is not None
        else bool(re.search("true", env.get(PR_HEAD_SHA_ENV, ""), re.IGNORECASE))
    )
    event_name = env.get("GITHUB_EVENT_NAME", "")
    payload, warnings = load_payload(env)
    repo = _Repo(cwd)
    source: ContextSource
    if is_github_actions(env) or env.get("GITHUB_REF"):
        source = "github"
        the_ref = env.get("GITHUB_REF", "")
        the_sha = env.get("GITHUB_SHA", "")
        if "pull_request_target" in event_name:
            number = payload.get("number")
            if isinstance(number, int) and not isinstance(number, bool):
                the_ref = f"refs/pull/{number}/merge"
            else:
                warnings.append(
                    "pull_request_target without a PR number in the event payload; "
                    f"keeping {the_ref or 'the empty ref'}"
                )
        head_sha = _str_or_none(_dig(payload, "pull_request", "head", "sha"))
        if use_head_sha and "pull_request" in event_name and head_sha:
            the_sha = head_sha
        if ref is not None:
            the_ref = _normalize_ref(ref, repo)
    elif ref is not None:
        source = "explicit"
        the_ref = _normalize_ref(ref, repo)
        the_sha = ""
        if repo.usable:
            the_sha = (repo.git.rev(the_ref) or repo.git.rev("HEAD") or "") if the_ref else ""
            source = "git"
    else:
        source = "git"
        git = repo.require()
        the_ref = git.symbolic_head() or _detached_ref(git)
        the_sha = git.rev("HEAD") or ""
    if sha is not None:
        the_sha = _check_sha(sha)

    commit_date = _commit_date(payload, the_sha) if the_sha else None
    if commit_date is None and the_sha and repo.usable:
        commit_date = repo.git.commit_date(the_sha)
    payload_default = _str_or_none(_dig(payload, "repository", "default_branch"))
    repo_default = (
        default_branch.strip()
        if default_branch
        else payload_default or (repo.git.remote_default_branch() if repo.usable else None)
    )
    return EventContext(
        now=current,
        commit_date=commit_date or current,
        commit_date_known=commit_date is not None,
        event_name=event_name,
        ref=the_ref,
        sha=the_sha,
        default_branch=repo_default,
        repo_default_branch=repo_default,
        base_ref=_str_or_none(payload.get("base_ref")),
        pr_base_ref=_str_or_none(_dig(payload, "pull_request", "base", "ref"))
        or _str_or_none(env.get("GITHUB_BASE_REF")),
        head_ref=_str_or_none(_dig(payload, "pull_request", "head", "ref"))
        or _str_or_none(env.get("GITHUB_HEAD_REF")),
        short_sha_length=sha_length,
        source=source,
        repository=env.get("GITHUB_REPOSITORY")
        or _str_or_none(_dig(payload, "repository", "full_name")),
        warnings=tuple(warnings),
    )
