"""HubClient: the Executor Hub's HTTP RPC API with timeouts, bounded retries and clear errors.

Requests match the official client (docs/protocol.md): ``POST {domain}/v2/rpc/<method>``,
``Authorization: token …``, a ``jinameta-session-id`` that stays the same for one push (the Hub
stores it as the task's ``traceId``, which is how a broken push finds its own build again).

What is retried, and why it is safe:
- connect errors, HTTP 502/503/504 and 429 (``Retry-After`` honoured) on every call;
- a read timeout or a cut connection on calls without side effects (whoami, listAsyncTasks);
- an upload only while the Hub cannot have started a build for it: it never answered, and
  either the body was not completely sent (a Hub checks ``md5sum`` against the whole file before
  it builds anything) or, when the whole body was sent, the Hub lists no task for our session id.
  Once a 2xx answer arrived the upload is never repeated; the build is followed instead.
Any other 4xx fails at once with the server's ``readableMessage``; a 3xx too: redirects are never
followed (the token must not go to another origin, an upload body must not be sent twice).

Every attempt runs under a :class:`~hubci.netguard.Watchdog` that ends it at the command's
``deadline`` (time.monotonic; raises :class:`~hubci.hub.errors.DeadlineReached`, exit code 4) or
at its own cap (JSON calls: ``timeouts.read``), whatever the server drips; retries never wait past
the deadline. JSON answers are read with a size limit, gzip/deflate decoded with bounded memory.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from hubci import __version__
from hubci.errors import AuthError, HubError
from hubci.hub.errors import (
    TRANSPORT_ERRORS,
    DeadlineReached,
    HubRejected,
    describe,
    error_for_status,
    is_timeout,
    redirect_error,
)
from hubci.hub.form import PushForm, StreamedBody
from hubci.hub.records import Package, Task, User
from hubci.hub.retry import (
    RetriesExhausted,
    Retryable,
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)
from hubci.hub.stream import StreamResponse
from hubci.netguard import BodyRefused, GuardedAdapter, Watchdog, WatchdogFired, read_body
from hubci.secret import Secret

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Bytes handed to the socket per write while uploading (urllib3's default is 16 KiB, which
#: costs a Python round trip through the multipart encoder every 16 KiB).
UPLOAD_BLOCK = 1024 * 1024
#: Largest JSON answer read; an error answer's body is read up to ERROR_BODY_LIMIT.
JSON_LIMIT = 8 * 1024 * 1024
ERROR_BODY_LIMIT = 64 * 1024
#: The encodings hubci decodes itself, with bounded memory (never br/zstd).
ACCEPT_ENCODING = "gzip, deflate"
#: How far past the deadline a last lookup for the timeout report may run (:meth:`grace`).
REPORT_GRACE_SECONDS = 5.0
#: Shortest socket timeout handed to requests.
MIN_SOCKET_TIMEOUT = 0.05
NOT_A_HUB_HINT = "check --hub-url / JINA_HUBBLE_REGISTRY (the Hub's base URL)"


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    #: Waiting for a JSON answer, or for the Hub's first answer to an upload.
    read: float = 120.0
    #: Silence on a build stream after which it is treated as stalled and reconnected.
    stall: float = 90.0


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


@dataclass
class Upload:
    """The result of an upload: the Hub's build stream, or (after an unanswered upload) the task
    the Hub created for it."""

    stream: StreamResponse | None = None
    task: Task | None = None


def client_versions() -> tuple[str, None]:
    """(Python, jina) as the push headers tell them to the Hub, which generates a missing
    Dockerfile for them; hubci runs without jina, so that one is unknown (None)."""
    return platform.python_version(), None


@dataclass
class HubClient:
    """One Hub session (one push, or one status query)."""

    base_url: str
    token: Secret | None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    log: Callable[[str], None] = print
    ci: str = "(unset)"
    session_id: str = field(default_factory=lambda: str(uuid.uuid1()))
    #: When the command gives up (time.monotonic); None: never.
    deadline: float | None = None
    #: False while no upload of this session can have started a build: none was fully sent, or
    #: the Hub refused each one. Tells an interrupted upload whether anything was pushed.
    upload_may_have_built: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._session = requests.Session()
        adapter = GuardedAdapter(blocksize=UPLOAD_BLOCK)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(self._headers())

    # -- plumbing ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {
            "User-Agent": f"hubci/{__version__} {requests.utils.default_user_agent()}",
            "Accept-Charset": "utf-8",
            "Accept-Encoding": ACCEPT_ENCODING,
            "jinameta-session-id": self.session_id,
            "jinameta-hubci": __version__,
            "jinameta-jina": "(unset)",  # hubci does not run jina: client_versions()
            "jinameta-python": platform.python_version(),
            "jinameta-platform": platform.system(),
            "jinameta-architecture": platform.machine(),
            "jinameta-ci-vendor": self.ci,
        }
        if self.token:
            headers["Authorization"] = f"token {self.token.reveal()}"
        return headers

    def url(self, method: str) -> str:
        return f"{self.base_url}/v2/rpc/{method}"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def remaining(self) -> float | None:
        """Seconds until the deadline (negative once past); None without a deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    @contextmanager
    def grace(self, seconds: float = REPORT_GRACE_SECONDS) -> Iterator[None]:
        """Calls inside may run ``seconds`` past the deadline (a last lookup for a report)."""
        saved = self.deadline
        if saved is not None:
            self.deadline = max(saved, time.monotonic()) + seconds
        try:
            yield
        finally:
            self.deadline = saved

    def _check_deadline(self, method: str) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise DeadlineReached(f"no answer from the Hub to {method} before --timeout ran out")

    def _expiry(self, cap: float | None) -> float | None:
        """When an attempt must end: the deadline or ``cap`` seconds from now, the nearer."""
        until = None if cap is None else time.monotonic() + cap
        known = [t for t in (self.deadline, until) if t is not None]
        return min(known) if known else None

    def _watchdog(self, method: str, cap: float | None) -> Watchdog:
        self._check_deadline(method)
        return Watchdog(self._expiry(cap))

    def _socket_timeouts(self, read: float) -> tuple[float, float]:
        left = self.remaining()
        connect = self.timeouts.connect
        if left is not None:
            connect, read = min(connect, left), min(read, left)
        return max(connect, MIN_SOCKET_TIMEOUT), max(read, MIN_SOCKET_TIMEOUT)

    def _post(self, dog: Watchdog, method: str, **kwargs: Any) -> requests.Response:
        """POST under ``dog``, never following a redirect. A call the watchdog ended raises
        (past the deadline: DeadlineReached), even when it looked like a short answer."""
        try:
            with dog.active():
                resp = self._session.post(
                    self.url(method), allow_redirects=False, stream=True, **kwargs
                )
        except TRANSPORT_ERRORS:
            self._check_deadline(method)
            raise
        if dog.fired:
            resp.close()
            self._check_deadline(method)
            raise _cut(method)
        return resp

    def _retrying(self, attempt: Callable[[], Any], *, within: float | None = None) -> Any:
        """Run ``attempt`` under the retry policy; ``within`` (seconds) and the deadline tighten
        its time budget."""
        policy = self.retry
        budget = [t for t in (within, self.remaining()) if t is not None]
        if budget and min(budget) < policy.total_seconds:
            policy = dataclasses.replace(policy, total_seconds=max(min(budget), 0.0))
        try:
            return call_with_retry(policy, attempt, log=self.log)
        except RetriesExhausted as exc:
            raise HubError(
                f"{exc.last.reason}, still failing after {exc.attempts} attempt(s)",
                f"check the Hub URL and your network, then run again; session id {self.session_id}",
            ) from None

    def _check(self, resp: requests.Response, method: str) -> None:
        """Raise Retryable for retried statuses, a mapped error for other errors and redirects."""
        status = resp.status_code
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            resp.close()
            raise Retryable(f"HTTP {status} from {method}", retry_after=retry_after)
        if 300 <= status < 400:
            location = resp.headers.get("Location")
            resp.close()
            raise redirect_error(status, location, self.url(method), method, self.session_id)
        if status >= 400:
            try:
                body = _parse_json(read_body(resp, limit=ERROR_BODY_LIMIT, what=method))
            except (BodyRefused, *TRANSPORT_ERRORS):
                body = None
            resp.close()
            raise error_for_status(status, body, method, self.session_id)

    def _call_json(self, method: str, **kwargs: Any) -> Any:
        """POST without side effects; retried on transport errors and retried statuses."""

        def attempt() -> Any:
            dog = self._watchdog(method, self.timeouts.read)
            try:
                resp = self._post(
                    dog, method, timeout=self._socket_timeouts(self.timeouts.read), **kwargs
                )
                try:
                    with dog.active():
                        self._check(resp, method)
                        raw = read_body(
                            resp,
                            limit=JSON_LIMIT,
                            what=f"the Hub's answer to {method}",
                            hint=NOT_A_HUB_HINT,
                        )
                finally:
                    resp.close()
                if dog.fired:  # the watchdog's shutdown ended the body early
                    self._check_deadline(method)
                    raise _cut(method)
            except TRANSPORT_ERRORS as exc:
                self._check_deadline(method)
                raise Retryable(f"{_reason(exc, dog)} from {method}") from exc
            finally:
                dog.close()
            body = _parse_json(raw)
            if not isinstance(body, dict):
                msg = f"{self.base_url} answered {method} with something that is not Hub JSON"
                raise HubError(msg, NOT_A_HUB_HINT)
            return body

        return self._retrying(attempt)

    # -- calls ------------------------------------------------------------------------------
    def whoami(self) -> User:
        """The logged-in user (``data`` of user.identity.whoami); AuthError without a token."""
        if not self.token:
            raise AuthError(
                "no Hub token",
                "set JINA_AUTH_TOKEN, pass --token, or log in with `jina auth login`",
            )
        body = self._call_json("user.identity.whoami")
        return User.from_json(body.get("data"))

    def list_tasks(self, name: str, *, page_size: int = 20) -> list[Task]:
        """Build tasks of executor ``name``, newest first (executor.listAsyncTasks); entries
        that are not JSON objects are skipped."""
        body = self._call_json(
            "executor.listAsyncTasks",
            data={"id": name, "sort": "-createdAt", "pageSize": str(page_size)},
        )
        data = body.get("data")
        if not isinstance(data, list):
            return []
        return [task for task in map(Task.from_json, data) if task is not None]

    def get_package(self, ref: str, tag: str, secret: Secret | None = None) -> Package | None:
        """The build ``tag`` of executor ``ref`` (``owner/Name``, a NAME or an id) points at
        (executor.getPackage); None when the Hub has no such executor, tag or call (404)."""
        body: dict[str, Any] = {"id": ref, "tag": tag}
        if secret is not None:
            body["secret"] = secret.reveal()
        try:
            answer = self._call_json("executor.getPackage", json=body)
        except HubRejected as exc:
            if exc.status == 404:
                return None
            raise
        return Package.from_json(answer.get("data"))

    def find_task(self, name: str, trace_id: str | None = None) -> Task | None:
        """The task whose ``traceId`` is ``trace_id`` (default: this session), or None."""
        wanted = trace_id or self.session_id
        for task in self.list_tasks(name):
            if task.trace_id == wanted:
                return task
        return None

    def _open_stream(self, resp: requests.Response, method: str, dog: Watchdog) -> StreamResponse:
        """Check an answer under ``dog``, then hand both over to the stream that reads it."""
        try:
            with dog.active():
                self._check(resp, method)
        except BaseException:
            dog.close()
            raise
        return StreamResponse(
            resp, method, deadline=self.deadline, stall=self.timeouts.stall, watchdog=dog
        )

    def query_progress(
        self,
        task_id: str,
        *,
        replay: bool,
        verbose: bool,
        read_timeout: float | None = None,
        within: float | None = None,
    ) -> StreamResponse:
        """Open executor.queryProgress for a task (fields: replay, verbose, id); retries stop
        after ``within`` seconds (the caller's deadline) if given."""
        from requests_toolbelt.multipart.encoder import MultipartEncoder

        method = "executor.queryProgress"
        read = self.timeouts.stall if read_timeout is None else read_timeout

        def attempt() -> StreamResponse:
            body = MultipartEncoder(
                fields=[
                    ("replay", "True" if replay else "False"),
                    ("verbose", "True" if verbose else "False"),
                    ("id", task_id),
                ]
            )
            dog = self._watchdog(method, max(read, MIN_SOCKET_TIMEOUT))
            try:
                resp = self._post(
                    dog,
                    method,
                    data=body,
                    headers={"Content-Type": body.content_type},
                    timeout=self._socket_timeouts(max(read, MIN_SOCKET_TIMEOUT)),
                )
            except TRANSPORT_ERRORS as exc:
                dog.close()
                raise Retryable(f"{_reason(exc, dog)} from {method}") from exc
            except BaseException:
                dog.close()
                raise
            return self._open_stream(resp, method, dog)

        result: StreamResponse = self._retrying(attempt, within=within)
        return result

    def upload(
        self,
        form: PushForm,
        *,
        progress: Callable[[int, int], None] | None = None,
        on_attempt: Callable[[], None] | None = None,
    ) -> Upload:
        """Send the bundle; returns the open build stream (2xx), or the task the Hub created for
        an upload it never answered. Never repeats an upload the Hub may have started building.

        The watchdog allows ``timeouts.read`` seconds without progress: since the last block of
        the body left, or for the first answer once all of it did (and never past the deadline).
        """
        method = form.endpoint
        read = self.timeouts.read

        def attempt() -> Upload:
            if on_attempt is not None:
                on_attempt()
            dog = self._watchdog(method, read)

            def sent(done: int, total: int) -> None:
                dog.arm(self._expiry(read))  # progress: the Hub is taking the body
                if progress is not None:
                    progress(done, total)

            body = StreamedBody(form, sent)
            try:
                resp = self._post(
                    dog,
                    method,
                    data=body.monitor,
                    headers={"Content-Type": body.content_type},
                    timeout=self._socket_timeouts(read),
                )
            except TRANSPORT_ERRORS as exc:
                dog.close()
                if not body.complete or isinstance(exc, requests.ConnectTimeout):
                    raise Retryable(f"{_reason(exc, dog)} from {method}") from exc
                # The whole body left and no answer came: the Hub may or may not have started
                # a build. Its task list (keyed by our session id) decides.
                task = self.find_task(form.name)
                if task is not None:
                    return Upload(task=task)
                if dog.fired or is_timeout(exc):
                    raise HubError(
                        f"the Hub did not answer {method} within {read:.0f}s",
                        "it may still build the upload: check with `hubci status PATH`; "
                        f"session id {self.session_id}",
                    ) from exc
                raise Retryable(f"{describe(exc)} from {method}") from exc
            except BaseException:
                dog.close()
                raise
            finally:
                self.upload_may_have_built = body.complete
                body.close()
            try:
                stream = self._open_stream(resp, method, dog)
            except BaseException:
                self.upload_may_have_built = False  # the Hub refused it: no build
                raise
            return Upload(stream=stream)

        result: Upload = self._retrying(attempt)
        return result


def _cut(method: str) -> Exception:
    return WatchdogFired(f"no answer from {method} in time")


def _reason(exc: BaseException, dog: Watchdog) -> str:
    """A transport error in one short phrase; a call the watchdog ended is a read timeout."""
    return "read timeout" if dog.fired else describe(exc)
