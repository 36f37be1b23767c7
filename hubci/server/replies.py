"""HTTP plumbing of the local Hub: JSON error envelopes, path clean-up, dropping a connection."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hubci.server.pushreq import Rejection

NDJSON = "application/x-ndjson"
_STATUS_MESSAGES = {
    40001: "bad request",
    40003: "data stream broken",
    40004: "unexpected MIME type",
    40102: "authentication failed",
    40103: "AuthenticationRequiredError",
    40301: "operation not allowed",
    40402: "RPC method not found",
    40401: "internal resource not found",
    40403: "requested entity not found",
    40501: "method not allowed",
    41301: "file too large",
    41302: "maximum upload size reached",
}


def error(code: int, status: int, readable: str, headers: dict[str, str] | None = None) -> Response:
    body = Rejection(code, status, readable, message=_STATUS_MESSAGES.get(status)).body()
    return JSONResponse(body, status_code=code, headers=headers)


def unauthorized() -> Response:
    return error(
        401,
        40103,
        "Authentication required: log in (JINA_AUTH_TOKEN or `jina auth login`) with a token "
        "this Hub knows",
    )


def fault_response(code: int, what: str) -> Response:
    headers = {"Retry-After": "1"} if code in (429, 503) else None
    return error(code, code * 100 + 1, f"the local Hub answered {code} ({what} fault)", headers)


class CollapseSlashes:
    """``JINA_HUBBLE_REGISTRY`` with a trailing slash makes ``//v2/rpc/…``: accept it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            path = re.sub("/{2,}", "/", scope["path"])
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def abort_connection(request: Request) -> None:
    """Drop the TCP connection now (the ``upload-reset`` fault), like a crashed proxy would."""
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        msg = "upload-reset: cannot reach the connection to drop it"
        raise RuntimeError(msg)
    transport.abort()
