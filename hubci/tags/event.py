"""The event context the tag rules see (docs/tags.md#where-the-event-comes-from): a frozen record.

:func:`hubci.tags.context.resolve_context` fills it from GitHub Actions or a local git repository;
the engine only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["ContextSource", "EventContext"]

ContextSource = Literal["github", "git", "explicit"]

_TAGS, _HEADS, _PULL = "refs/tags/", "refs/heads/", "refs/pull/"


@dataclass(frozen=True, kw_only=True)
class EventContext:
    """Everything the rules depend on. Datetimes are timezone-aware."""

    now: datetime
    commit_date: datetime
    event_name: str = ""
    ref: str = ""
    sha: str = ""
    #: for ``{{is_default_branch}}`` (upstream: the payload's ``repository.default_branch``)
    default_branch: str | None = None
    #: for ``type=edge`` without ``branch=`` (upstream: the repository API). resolve_context sets
    #: both to --default-branch, else the payload's value, else the git remote's HEAD.
    repo_default_branch: str | None = None
    #: payload ``base_ref`` (tag pushes) and ``pull_request.base.ref`` (pull requests)
    base_ref: str | None = None
    pr_base_ref: str | None = None
    #: the pull request's head branch (``GITHUB_HEAD_REF``); informational, no rule uses it
    head_ref: str | None = None
    short_sha_length: int = 7
    source: ContextSource = "explicit"
    repository: str | None = None
    #: what resolving the context noticed (e.g. a missing payload file); not part of equality
    warnings: tuple[str, ...] = field(default=(), compare=False)
    #: False when neither the event nor git knew the commit's date (``commit_date`` is then the
    #: current time, and a rule that uses it is warned about)
    commit_date_known: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        for name in ("now", "commit_date"):
            if getattr(self, name).tzinfo is None:
                msg = f"EventContext.{name} must be timezone-aware"
                raise ValueError(msg)
        if self.short_sha_length < 1:
            msg = "EventContext.short_sha_length must be at least 1"
            raise ValueError(msg)

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith(_TAGS)

    @property
    def is_branch(self) -> bool:
        return self.ref.startswith(_HEADS)

    @property
    def is_pr(self) -> bool:
        return self.ref.startswith(_PULL)

    @property
    def tag(self) -> str:
        """The tag name for a tag ref, else empty."""
        return self.ref[len(_TAGS) :] if self.is_tag else ""

    @property
    def branch(self) -> str:
        """The branch name for a branch ref, else empty."""
        return self.ref[len(_HEADS) :] if self.is_branch else ""

    @property
    def pr(self) -> str:
        """``refs/pull/15/merge`` → ``15``; ``refs/pull/15/head`` → ``15/head``; else empty."""
        if not self.is_pr:
            return ""
        rest = self.ref[len(_PULL) :]
        return rest[: -len("/merge")] if rest.endswith("/merge") else rest

    @property
    def short_sha(self) -> str:
        return self.sha[: self.short_sha_length]

    @property
    def is_default_branch(self) -> bool:
        """As metadata-action decides it: the default branch, or any branch on an event whose name
        contains ``create``, ``discussion``, ``issues`` or ``schedule``."""
        branch = self.ref[len(_HEADS) :] if self.ref.startswith(_HEADS) else self.ref
        if not branch:
            return False
        if self.default_branch is not None and self.default_branch == branch:
            return True
        return any(
            word in self.event_name for word in ("create", "discussion", "issues", "schedule")
        )

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (``hubci tags --format json``, push --dry-run)."""
        return {
            "source": self.source,
            "event_name": self.event_name,
            "ref": self.ref,
            "sha": self.sha,
            "branch": self.branch,
            "tag": self.tag,
            "pr": self.pr,
            "default_branch": self.default_branch,
            "repo_default_branch": self.repo_default_branch,
            "is_default_branch": self.is_default_branch,
            "base_ref": self.base_ref,
            "pr_base_ref": self.pr_base_ref,
            "head_ref": self.head_ref,
            "short_sha_length": self.short_sha_length,
            "commit_date": self.commit_date.isoformat(),
            "now": self.now.isoformat(),
            "repository": self.repository,
        }
