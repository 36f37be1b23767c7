"""HubClient: the Executor Hub's HTTP RPC API with timeouts, bounded retries and clear errors.

Requests match the official client (hub-protocol.md §2-§4): ``POST {domain}/v2/rpc/<method>``,
``Authorization: token …``, a ``jinameta-session-id`` that stays the same for one push (the Hub
stores it as the task's ``traceId``, which is how a broken push finds its own build again).

What is retried, and why it is safe:
- connect errors, HTTP 502/503/504 and 429 (``Retry-After`` honoured) on every call;
- a read timeout or a cut connection on calls without side effects (whoami, listAsyncTasks);
- an upload only while the Hub cannot have started a build for it: it never answered, and
  either the body was not completely sent (a Hub checks ``md5sum`` against the whole file before
  it builds anything) or, when the whole body was sent, the Hub lists no task for our session id.
  Once a 2xx answer arrived the upload is never repeated; the build is followed instead.
Any other 4xx fails at once with the server's ``readableMessage``.
"""

from __future__ import annotations

import dataclasses
import platform
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from hubci import __version__
from hubci.errors import AuthError, HubError
from hubci.hub.errors import (
    TRANSPORT_ERRORS,
    describe,
    error_for_status,
    is_timeout,
)
from hubci.hub.form import PushForm, StreamedBody
from hubci.hub.retry import (
    RetriesExhausted,
    Retryable,
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)
from hubci.hub.stream import StreamResponse
from hubci.secret import Secret

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Bytes handed to the socket per write while uploading (urllib3's default is 16 KiB, which
#: costs a Python round trip through the multipart encoder every 16 KiB).
UPLOAD_BLOCK = 1024 * 1024


class _BigBlockAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections send request bodies in UPLOAD_BLOCK pieces."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blocksize", UPLOAD_BLOCK)
        super().init_poolmanager(*args, **kwargs)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    #: Waiting for a JSON answer, or for the Hub's first answer to an upload.
    read: float = 120.0
    #: Silence on a build stream after which it is treated as stalled and reconnected.
    stall: float = 90.0


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


@dataclass
class Upload:
    """The result of an upload: the Hub's build stream, or (after an unanswered upload) the task
    the Hub created for it."""

    stream: StreamResponse | None = None
    task: dict[str, Any] | None = None


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
    #: False while no upload of this session can have started a build: none was fully sent, or
    #: the Hub refused each one. Tells an interrupted upload whether anything was pushed.
    upload_may_have_built: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._session = requests.Session()
        adapter = _BigBlockAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(self._headers())

    # -- plumbing ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {
            "User-Agent": f"hubci/{__version__} {requests.utils.default_user_agent()}",
            "Accept-Charset": "utf-8",
            "jinameta-session-id": self.session_id,
            "jinameta-hubci": __version__,
            "jinameta-jina": "(unset)",
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

    def _retrying(self, attempt: Callable[[], Any], *, within: float | None = None) -> Any:
        """Run ``attempt`` under the retry policy; ``within`` (seconds) tightens its time budget."""
        policy = self.retry
        if within is not None and within < policy.total_seconds:
            policy = dataclasses.replace(policy, total_seconds=max(within, 0.0))
        try:
            return call_with_retry(policy, attempt, log=self.log)
        except RetriesExhausted as exc:
            raise HubError(
                f"{exc.last.reason}, still failing after {exc.attempts} attempt(s)",
                f"check the Hub URL and your network, then run again; session id {self.session_id}",
            ) from None

    def _check(self, resp: requests.Response, method: str) -> None:
        """Raise Retryable for retried statuses, a mapped error for other errors."""
        if resp.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            resp.close()
            raise Retryable(f"HTTP {resp.status_code} from {method}", retry_after=retry_after)
        if resp.status_code >= 400:
            body = _json_or_none(resp)
            resp.close()
            raise error_for_status(resp.status_code, body, method, self.session_id)

    def _call_json(self, method: str, **kwargs: Any) -> Any:
        """POST without side effects; retried on transport errors and retried statuses."""

        def attempt() -> Any:
            try:
                resp = self._session.post(
                    self.url(method),
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    **kwargs,
                )
            except TRANSPORT_ERRORS as exc:
                raise Retryable(f"{describe(exc)} from {method}") from exc
            self._check(resp, method)
            body = _json_or_none(resp)
            if not isinstance(body, dict):
                msg = f"{self.base_url} answered {method} with something that is not Hub JSON"
                raise HubError(msg, "check --hub-url / JINA_HUBBLE_REGISTRY (the Hub's base URL)")
            return body

        return self._retrying(attempt)

    # -- calls ------------------------------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        """The logged-in user (``data`` of user.identity.whoami); AuthError without a token."""
        if not self.token:
            raise AuthError(
                "no Hub token",
                "set JINA_AUTH_TOKEN, pass --token, or log in with `jina auth login`",
            )
        body = self._call_json("user.identity.whoami")
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def list_tasks(self, name: str, *, page_size: int = 20) -> list[dict[str, Any]]:
        """Build tasks of executor ``name``, newest first (executor.listAsyncTasks)."""
        body = self._call_json(
            "executor.listAsyncTasks",
            data={"id": name, "sort": "-createdAt", "pageSize": str(page_size)},
        )
        data = body.get("data")
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    def find_task(self, name: str, trace_id: str | None = None) -> dict[str, Any] | None:
        """The task whose ``traceId`` is ``trace_id`` (default: this session), or None."""
        wanted = trace_id or self.session_id
        for task in self.list_tasks(name):
            if task.get("traceId") == wanted:
                return task
        return None

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
            try:
                resp = self._session.post(
                    self.url(method),
                    data=body,
                    headers={"Content-Type": body.content_type},
                    timeout=(self.timeouts.connect, max(read, 0.1)),
                    stream=True,
                )
            except TRANSPORT_ERRORS as exc:
                raise Retryable(f"{describe(exc)} from {method}") from exc
            self._check(resp, method)
            return StreamResponse(resp, method)

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
        an upload it never answered. Never repeats an upload the Hub may have started building."""
        method = form.endpoint

        def attempt() -> Upload:
            if on_attempt is not None:
                on_attempt()
            body = StreamedBody(form, progress)
            try:
                resp = self._session.post(
                    self.url(method),
                    data=body.monitor,
                    headers={"Content-Type": body.content_type},
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    stream=True,
                )
            except TRANSPORT_ERRORS as exc:
                if not body.complete or isinstance(exc, requests.ConnectTimeout):
                    raise Retryable(f"{describe(exc)} from {method}") from exc
                # The whole body left and no answer came: the Hub may or may not have started
                # a build. Its task list (keyed by our session id) decides.
                task = self.find_task(form.name)
                if task is not None:
                    return Upload(task=task)
                if is_timeout(exc):
                    raise HubError(
                        f"the Hub did not answer {method} within {self.timeouts.read:.0f}s",
                        "it may still build the upload: check with `hubci status PATH`; "
                        f"session id {self.session_id}",
                    ) from exc
                raise Retryable(f"{describe(exc)} from {method}") from exc
            finally:
                self.upload_may_have_built = body.complete
                body.close()
            try:
                self._check(resp, method)
            except BaseException:
                self.upload_may_have_built = False  # the Hub refused it: no build
                raise
            return Upload(stream=StreamResponse(resp, method))

        result: Upload = self._retrying(attempt)
        return result
