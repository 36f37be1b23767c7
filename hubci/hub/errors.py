"""Transport and HTTP failures of Hub calls, described in one secret-free line each."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from hubci.errors import AuthError, BuildTimeout, HubciError, HubError
from hubci.output.neutralize import flatten

#: Everything the transport can raise while talking to the Hub.
TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_MAX_MESSAGE = 300


class HubRejected(HubError):
    """The Hub answered an HTTP error that retrying cannot fix."""

    def __init__(self, message: str, hint: str | None = None, *, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


class DeadlineReached(BuildTimeout):
    """The command's deadline (--timeout) passed while waiting for the Hub (exit code 4)."""

    def __init__(
        self,
        message: str = "no answer from the Hub before --timeout ran out",
        hint: str | None = "the build may still finish; run again with a longer --timeout",
    ) -> None:
        super().__init__(message, hint)


class StreamBroken(Exception):
    """A build stream ended early: cut, reset or stalled (``stalled`` = read timeout)."""

    def __init__(self, reason: str, *, stalled: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stalled = stalled


def describe(exc: BaseException) -> str:
    """A short, secret-free description of a transport error."""
    if isinstance(exc, requests.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return "read timeout"
    text = str(exc)
    for marker, short in (
        ("Connection refused", "connection refused"),
        ("Connection reset", "connection reset"),
        ("Broken pipe", "connection reset"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("IncompleteRead", "connection cut"),
        ("InvalidChunkLength", "connection cut"),
        ("Name or service not known", "unknown host"),
        ("NameResolutionError", "unknown host"),
    ):
        if marker in text:
            return short
    return type(exc).__name__


def is_timeout(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(
            cause,
            requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError,
        ):
            return True
        cause = cause.__cause__ or cause.__context__
        if cause is exc:
            break
    return "timed out" in str(exc)


def readable_message(body: Any) -> str | None:
    """The server's own words from a JSON error body (readableMessage, else message)."""
    if isinstance(body, dict):
        for key in ("readableMessage", "message"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return flatten(value, _MAX_MESSAGE)  # one line, at most 300 characters
    return None


def error_for_status(status: int, body: Any, endpoint: str, session_id: str) -> HubciError:
    """Map a non-retried HTTP error answer to a one-line error that says what to do."""
    said = readable_message(body) or f"HTTP {status}"
    where = f"session id {session_id}"
    if status == 401:
        return AuthError(
            f"the Hub refused the token on {endpoint}: {said}",
            "set JINA_AUTH_TOKEN or pass --token with a valid Hub token; " + where,
        )
    if status == 403:
        return HubRejected(
            f"the Hub refused {endpoint}: {said}",
            "fix what the Hub names (e.g. use another tag), or use the owner's token; " + where,
            status=status,
        )
    if status == 404 and readable_message(body) is None:
        return HubRejected(
            f"the Hub does not know {endpoint} ({said})",
            "check --hub-url / JINA_HUBBLE_REGISTRY (the Hub's base URL); " + where,
            status=status,
        )
    if status == 404:
        return HubRejected(
            f"the Hub found nothing for {endpoint}: {said}",
            "check the executor name or task id, and that the token is its owner's; " + where,
            status=status,
        )
    if status == 413:
        return HubRejected(
            f"the Hub refused {endpoint}: {said}",
            "the bundle is too large for this Hub; exclude files with .gitignore; " + where,
            status=status,
        )
    if status < 500:
        return HubRejected(
            f"the Hub rejected {endpoint} (HTTP {status}): {said}", where, status=status
        )
    return HubRejected(
        f"the Hub failed on {endpoint} (HTTP {status}): {said}", where, status=status
    )


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` and nothing else (never its userinfo, path or query);
    None when it names no usable origin."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme or not host or not scheme.isascii() or not scheme.isalpha():
        return None
    if not host.isascii() or not all(c.isalnum() or c in ".-_:" for c in host):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def redirect_error(
    status: int, location: str | None, request_url: str, endpoint: str, session_id: str
) -> HubRejected:
    """A 3xx answer: hubci never follows one (the token must not go to another origin, and an
    upload body must not be sent again), so it names the target's origin and the fix."""
    target = origin_of(urljoin(request_url, location)) if location else None
    where = f"to {target}" if target else "without a usable Location"
    return HubRejected(
        f"the Hub answered {endpoint} with a redirect (HTTP {status}) {where}, which hubci "
        "does not follow",
        f"set --hub-url / JINA_HUBBLE_REGISTRY to the Hub's real address; session id {session_id}",
        status=status,
    )
