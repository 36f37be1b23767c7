"""A tiny Hub stand-in on 127.0.0.1 that records each RPC request (headers, multipart fields in
order, file part metadata and digest) and answers like the Hub does, for wire comparisons."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

USER = "alice"


@dataclass
class Part:
    name: str
    value: str | None = None  # text fields
    filename: str | None = None
    content_type: str | None = None
    md5: str | None = None  # file parts: digest of the bytes received


@dataclass
class Captured:
    method: str
    headers: dict[str, str]
    parts: list[Part] = field(default_factory=list)
    body: str | None = None  # urlencoded bodies


async def _record(request: Request) -> Captured:
    method = request.path_params["method"]
    seen = Captured(method, {k.lower(): v for k, v in request.headers.items()})
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                seen.parts.append(
                    Part(
                        name,
                        None,
                        value.filename,
                        value.content_type,
                        hashlib.md5(data).hexdigest(),
                    )
                )
            else:
                seen.parts.append(Part(name, value))
        await form.close()
    else:
        seen.body = (await request.body()).decode()
    return seen


def make_app(log: list[Captured]) -> Starlette:
    async def rpc(request: Request) -> Response:
        seen = await _record(request)
        log.append(seen)
        if seen.method == "user.identity.whoami":
            return JSONResponse(
                {"code": 200, "status": 20000, "data": {"name": USER, "nickname": USER}}
            )
        if seen.method in ("executor.push", "executor.update"):
            payload = {
                "id": "abcd1234",
                "name": "HelloExecutor",
                "visibility": "public",
                "owner": {"name": USER},
                "commit": {"_id": "c1", "tags": ["v1"]},
            }
            lines = [
                {"type": "init", "subject": "createExecutor", "message": "accepted"},
                {
                    "type": "complete",
                    "subject": "createExecutor",
                    "message": "ok",
                    "payload": payload,
                },
            ]
            body = "".join(json.dumps(line) + "\n" for line in lines)
            return Response(body, status_code=201, media_type="application/x-ndjson")
        if seen.method == "executor.listAsyncTasks":
            trace = seen.headers.get("jinameta-session-id", "")
            task = {"_id": "t" * 24, "traceId": trace, "status": "succeeded"}
            return JSONResponse({"code": 200, "status": 20000, "data": [task]})
        return JSONResponse({"code": 404, "status": 40402, "message": "no such method"}, 404)

    async def website(_request: Request) -> Response:
        return HTMLResponse("<html><body>a web site, not a Hub</body></html>")

    return Starlette(
        routes=[
            Route("/v2/rpc/{method}", rpc, methods=["POST"]),
            Route("/site/v2/rpc/{method}", website, methods=["POST"]),
        ]
    )


@contextmanager
def capture_hub() -> Iterator[tuple[str, list[Captured]]]:
    """Serve the capture app on 127.0.0.1:<free port>; yields (base URL, request log)."""
    log: list[Captured] = []
    config = uvicorn.Config(make_app(log), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "the capture server did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.should_exit = True
        thread.join(15)
