"""What the client reads from the Hub's replies, as typed records.

The client side of ``hubci.server.records``: each record's ``from_json`` takes whatever JSON the
Hub sent and never raises. A field of the wrong type reads as None (or empty), strings are taken
only where strings are expected, and anything the client does not read is dropped (an executor
document's ``secret`` included).
"""

from __future__ import annotations

from dataclasses import dataclass


def _field_str(value: object) -> str | None:
    """A string field, the empty string included; None for any other type."""
    return value if isinstance(value, str) else None


def _name_str(value: object) -> str | None:
    """A non-empty string; None for the empty string and any other type."""
    return value if isinstance(value, str) and value else None


def _md5(value: object) -> str | None:
    """An MD5 hex digest (lower-cased); None for anything else."""
    if isinstance(value, str) and len(value) == 32:
        lowered = value.lower()
        if all(c in "0123456789abcdef" for c in lowered):
            return lowered
    return None


def _str_items(value: object) -> tuple[str, ...] | None:
    """Each item of a list as text (``str()`` of a non-string); None if ``value`` is no list."""
    return tuple(str(item) for item in value) if isinstance(value, list) else None


@dataclass(frozen=True)
class User:
    """The logged-in user: ``data`` of ``user.identity.whoami``."""

    name: str | None = None

    @classmethod
    def from_json(cls, value: object) -> User:
        """Always a record: a ``data`` that is no object is a user without a name."""
        if not isinstance(value, dict):
            return cls()
        return cls(name=_field_str(value.get("name")))


@dataclass(frozen=True)
class Task:
    """A build task of ``executor.listAsyncTasks`` (docs/protocol.md#build-tasks)."""

    #: ``_id``
    id: str | None = None
    #: ``traceId``: the ``jinameta-session-id`` of the upload that created the task.
    trace_id: str | None = None
    status: str | None = None
    #: ``data.buildParams.platforms`` when it is a list of strings, else empty.
    platforms: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: object) -> Task | None:
        """None unless ``value`` is a JSON object."""
        if not isinstance(value, dict):
            return None
        data = value.get("data")
        params = data.get("buildParams") if isinstance(data, dict) else None
        platforms = params.get("platforms") if isinstance(params, dict) else None
        return cls(
            id=_field_str(value.get("_id")),
            trace_id=_field_str(value.get("traceId")),
            status=_field_str(value.get("status")),
            platforms=tuple(platforms)
            if isinstance(platforms, list) and all(isinstance(p, str) for p in platforms)
            else (),
        )


@dataclass(frozen=True)
class ExecutorDocument:
    """The executor of a finished build: a ``complete`` line's payload or a succeeded task's
    ``result`` (docs/protocol.md#the-executor-document)."""

    id: str | None = None
    name: str | None = None
    #: ``owner.name``, or ``owner`` itself when it is a string.
    owner: str | None = None
    visibility: str | None = None
    #: ``commit.tags``; empty when there is no such list.
    tags: tuple[str, ...] = ()
    #: ``commit.platforms``, else ``platforms``; None when neither is a list (the Hub did not
    #: say which platforms it built).
    platforms: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, value: object) -> ExecutorDocument | None:
        """None unless ``value`` is a JSON object."""
        if not isinstance(value, dict):
            return None
        owner = value.get("owner")
        commit = value.get("commit")
        if not isinstance(commit, dict):
            commit = {}
        platforms = commit.get("platforms")
        if not isinstance(platforms, list):
            platforms = value.get("platforms")
        return cls(
            id=_name_str(value.get("id")),
            name=_name_str(value.get("name")),
            owner=_name_str(owner.get("name")) if isinstance(owner, dict) else _name_str(owner),
            visibility=_name_str(value.get("visibility")),
            tags=_str_items(commit.get("tags")) or (),
            platforms=_str_items(platforms),
        )


@dataclass(frozen=True)
class Package:
    """``data`` of ``executor.getPackage``: the build one tag points at
    (docs/protocol.md#packages). Fields the Hub does not give read as None."""

    executor: ExecutorDocument
    #: ``commit.id`` (or ``commit._id``)
    build_id: str | None = None
    #: MD5 of the bundle the build was made from: ``commit.commitParams.md5sum``, else
    #: ``package.md5`` (a Hub that serves the uploaded bundle as the package)
    md5: str | None = None
    #: names of ``commit.commitParams.buildEnv`` (the Hub keeps no values)
    build_env: tuple[str, ...] | None = None
    #: ``commit.commitParams.dockerfile`` (None: the default ``Dockerfile``)
    dockerfile: str | None = None
    #: whether the Hub said which Dockerfile (the key is there, null included)
    dockerfile_known: bool = False
    #: ``commitParams.python`` / ``.jina``: the client versions a generated Dockerfile was
    #: made for (``versions_known``: the Hub said, null included)
    python: str | None = None
    jina: str | None = None
    versions_known: bool = False

    @classmethod
    def from_json(cls, value: object) -> Package | None:
        """None unless ``value`` is a JSON object."""
        executor = ExecutorDocument.from_json(value)
        if executor is None or not isinstance(value, dict):
            return None
        commit = value.get("commit")
        commit = commit if isinstance(commit, dict) else {}
        params = commit.get("commitParams")
        params = params if isinstance(params, dict) else {}
        package = value.get("package")
        package = package if isinstance(package, dict) else {}
        build_env = params.get("buildEnv")
        md5 = _md5(params.get("md5sum")) or _md5(package.get("md5"))
        dockerfile = params.get("dockerfile")
        return cls(
            executor=executor,
            build_id=_name_str(commit.get("id")) or _name_str(commit.get("_id")),
            md5=md5,
            build_env=tuple(str(k) for k in build_env) if isinstance(build_env, dict) else None,
            dockerfile=dockerfile if isinstance(dockerfile, str) and dockerfile else None,
            dockerfile_known="dockerfile" in params
            and (dockerfile is None or isinstance(dockerfile, str)),
            python=_name_str(params.get("python")),
            jina=_name_str(params.get("jina")),
            versions_known="python" in params and "jina" in params,
        )
