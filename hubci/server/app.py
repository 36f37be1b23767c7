"""The ASGI app: the Hubble endpoints under ``/v2/rpc/`` (docs/protocol.md#endpoints).

``Hub`` owns the store, the workers and the faults; ``Hub.asgi()`` is the Starlette app that
uvicorn serves. Errors before a stream are JSON envelopes with a ``readableMessage``.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from hubci.server import auth
from hubci.server.builders import get_builder
from hubci.server.config import HubConfig, prepare_data_dir
from hubci.server.faults import Faults
from hubci.server.publish import Publisher
from hubci.server.pushreq import PushFields, Rejection, bad, parse_bool, parse_push
from hubci.server.records import ExecutorRow, NewTask, TagProtected, now_iso
from hubci.server.registry_tokens import DEFAULT_SERVICE, Caller, TokenIssuer, parse_scopes
from hubci.server.replies import (
    NDJSON,
    CollapseSlashes,
    abort_connection,
    error,
    fault_response,
    unauthorized,
)
from hubci.server.rpc import Reads, download_path
from hubci.server.signing import UrlSigner
from hubci.server.store import Store
from hubci.server.streams import Bell, push_stream, status_stream
from hubci.server.tasks import Workers
from hubci.server.upload import (
    MAX_SMALL_BODY,
    BadBody,
    BodyTooLarge,
    ResetNow,
    content_type,
    read_fields,
    read_form,
    read_small,
)

log = logging.getLogger("hubci.server")

#: a token answer (or its refusal) is for this client alone (RFC 6749 5.1)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _first(form: list[tuple[str, str]], key: str) -> str:
    return next((value for name, value in form if name == key), "")


def _oauth_error(code: int, kind: str, description: str) -> Response:
    body = {"error": kind, "error_description": description}
    return JSONResponse(body, status_code=code, headers=NO_STORE)


class Hub:
    """One local Hub: state, workers, faults and the ASGI app that serves them."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.data_dir = prepare_data_dir(config.data_dir)
        for leftover in (self.data_dir / "work").iterdir():  # a crashed run's uploads and builds
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        self.faults = Faults(list(config.faults))
        self.store = Store(self.data_dir / "hub.db")
        self.store.set_users(config.users)
        self.bell = Bell()
        options: dict[str, Any] = dict(config.builder_options)
        if config.builder == "check":
            options.setdefault("build_seconds", config.build_seconds)
        builder = get_builder(config.builder, **options)
        #: the registry's token issuer (None: no --registry, nothing to issue tokens for)
        self.issuer: TokenIssuer | None = None
        publisher = None
        if config.registry is not None:
            self.issuer = TokenIssuer.for_data_dir(self.data_dir)
            publisher = Publisher(config.registry, self.issuer, builder)
        self.workers = Workers(self.store, self.bell, config, self.faults, builder, publisher)
        self.reads = Reads(self.store, self.data_dir, UrlSigner.for_data_dir(self.data_dir))
        self.recovered = self.workers.recover()

    def close(self) -> None:
        self.workers.shutdown()
        self.bell.ring()
        self.store.close()

    def stopping(self) -> bool:
        return self.workers.stopping.is_set()

    def asgi(self) -> ASGIApp:
        routes = [
            Route("/v2/rpc/{method}", self.rpc, methods=["POST"]),
            Route("/v2/.well-known/jwks.json", self.jwks, methods=["GET"]),
            Route("/v2/registry/token", self.registry_token, methods=["GET", "POST"]),
            Route("/v2/executor/download/{build_id}", self.download, methods=["GET"]),
        ]
        app = Starlette(routes=routes)
        app.add_exception_handler(404, self._not_found)
        app.add_exception_handler(405, self._not_allowed)
        return CollapseSlashes(app)

    # -- plumbing ------------------------------------------------------------------------

    async def _not_found(self, request: Request, _exc: Exception) -> Response:
        path = request.url.path[:80]
        return error(404, 40401, f"No endpoint {path} on this Hub; the API is under /v2/rpc/")

    async def _not_allowed(self, request: Request, _exc: Exception) -> Response:
        return error(405, 40501, f"{request.method} is not allowed here; use POST")

    def user(self, request: Request) -> str | None:
        return self.store.authenticate(auth.token_from_header(request.headers.get("authorization")))

    async def _drain(self, request: Request) -> None:
        """Read and drop a body we answer early, so the client sees the answer, not a reset."""
        total = 0
        try:
            async for chunk in request.stream():
                total += len(chunk)
                if total > self.config.max_upload_bytes:
                    return
        except ClientDisconnect:
            return

    async def _fields(self, request: Request) -> dict[str, Any]:
        """The small body of a read endpoint as a dict; raise Rejection when it is unusable."""
        try:
            return await read_fields(
                request.stream(), request.headers.get("content-type"), self.data_dir / "work"
            )
        except BodyTooLarge as exc:
            msg = f"The request body is larger than {MAX_SMALL_BODY} bytes; send only its fields"
            raise Rejection(413, 41302, msg, message="maximum upload size reached") from exc
        except BadBody as exc:
            raise bad(f"Bad request body: {exc}") from exc
        except ClientDisconnect as exc:
            raise bad("Bad request body: the client went away while sending it") from exc

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(self.issuer.jwks() if self.issuer is not None else {"keys": []})

    async def registry_token(self, request: Request) -> Response:
        """The registry's token endpoint (hubci.server.registry_tokens). GET (Docker's token
        scheme): HTTP Basic with any user name and a Hub token as the password, or nothing
        (anonymous). POST (its OAuth2 form, which Engines use for an identity token such as
        the official client's credential helper gives): ``grant_type=refresh_token`` with a
        Hub token, or ``grant_type=password``. Answers are never to be cached."""
        if self.issuer is None:
            await self._drain(request)
            return error(404, 40401, "This Hub has no image registry (hub serve --registry)")
        if request.method == "POST":
            form = await self._token_form(request)
            if form is None:
                return _oauth_error(400, "invalid_request", "send a small form-encoded body")
            grant_type = _first(form, "grant_type")
            if grant_type == "refresh_token":
                caller = self._token_caller(_first(form, "refresh_token"))
            elif grant_type == "password":
                caller = self._token_caller(_first(form, "password"))
            else:
                return _oauth_error(400, "unsupported_grant_type", "use refresh_token or password")
            service = _first(form, "service")
            scope_values = [value for key, value in form if key == "scope"]
        else:
            caller = self._registry_caller(request.headers.get("authorization"))
            service = request.query_params.get("service") or ""
            scope_values = request.query_params.getlist("scope")
        if caller is None:
            body = {"errors": [{"code": "UNAUTHORIZED", "message": "unknown credentials"}]}
            headers = {"WWW-Authenticate": 'Basic realm="hubci hub"', **NO_STORE}
            return JSONResponse(body, status_code=401, headers=headers)
        service = service or DEFAULT_SERVICE
        if len(service) > 200 or not service.isprintable():
            return _oauth_error(400, "invalid_request", "bad service name")
        scopes = parse_scopes(scope_values)
        answer = self.issuer.answer(caller, service, scopes, self._executor_access)
        return JSONResponse(answer, headers=NO_STORE)

    async def _token_form(self, request: Request) -> list[tuple[str, str]] | None:
        """The POST's ``application/x-www-form-urlencoded`` fields in order, repeats kept
        (podman sends one ``scope`` per scope); None for anything else."""
        kind, _params = content_type(request.headers.get("content-type"))
        if kind != "application/x-www-form-urlencoded":
            await self._drain(request)
            return None
        try:
            body = await read_small(request.stream())
            return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (BodyTooLarge, ClientDisconnect, UnicodeDecodeError, ValueError):
            return None

    def _registry_caller(self, header: str | None) -> Caller | None:
        """Who the token request comes from; None for credentials this Hub does not know.
        The official client's credential helper sends ``anonymous`` when it has no token."""
        assert self.issuer is not None
        if not header:
            return Caller()
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "basic":
            token = auth.token_from_header(header)
            user = self.store.authenticate(token)
            return Caller(user=user) if user is not None else None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        _name, sep, password = decoded.partition(":")
        return self._token_caller(password) if sep else Caller()

    def _token_caller(self, password: str) -> Caller | None:
        """The caller a password names: none or ``anonymous`` (the credential helper's word
        for "no token") is anonymous; None for a password this Hub does not know."""
        assert self.issuer is not None
        if password in ("", "anonymous"):
            return Caller()
        if hmac.compare_digest(password.encode(), self.issuer.hub_password.encode()):
            return Caller(hub=True)
        user = self.store.authenticate(password)
        return Caller(user=user) if user is not None else None

    def _executor_access(self, executor_id: str) -> tuple[str, str] | None:
        found = self.store.executor_by_id(executor_id)
        return (found.owner, found.visibility) if found is not None else None

    async def list_registries(self, request: Request) -> Response:
        """``dockerRegistry.listInternalRegistries``: the registries whose credentials the
        official client's ``jina auth login`` hands to its Docker credential helper."""
        await self._drain(request)
        hosts = [self.config.registry.host] if self.config.registry is not None else []
        return JSONResponse({"code": 200, "status": 20000, "message": "success", "data": hosts})

    async def rpc(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = {
            "user.identity.whoami": self.whoami,
            "executor.push": self.push,
            "executor.update": self.update,
            "executor.listAsyncTasks": self.list_tasks,
            "executor.queryProgress": self.query_progress,
            "executor.getPackage": self.get_package,
            "dockerRegistry.listInternalRegistries": self.list_registries,
        }.get(method)
        if handler is None:
            await self._drain(request)
            return error(404, 40402, f"RPC method {method[:80]!r} not found on this Hub")
        return await handler(request)

    # -- endpoints -----------------------------------------------------------------------

    async def whoami(self, request: Request) -> Response:
        await self._drain(request)
        code = self.faults.whoami_status()
        if code is not None:
            return fault_response(code, "whoami-status")
        user = self.user(request)
        if user is None:
            return unauthorized()
        data = {"_id": user, "name": user, "nickname": user}
        return JSONResponse({"code": 200, "status": 20000, "message": "success", "data": data})

    async def push(self, request: Request) -> Response:
        return await self._upload(request, update=False)

    async def update(self, request: Request) -> Response:
        return await self._upload(request, update=True)

    async def _upload(self, request: Request, *, update: bool) -> Response:
        code = self.faults.upload_status()
        if code is not None:
            await self._drain(request)
            return fault_response(code, "upload-status")
        user = self.user(request)
        if user is None:
            await self._drain(request)
            return unauthorized()
        kind, params = content_type(request.headers.get("content-type"))
        boundary = params.get(b"boundary")
        if kind != "multipart/form-data" or not boundary:
            await self._drain(request)
            return error(415, 40004, "Send the executor as multipart/form-data with a file part")
        limit = self.config.max_upload_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return error(
                413, 41301, f"The upload is {int(length)} bytes; this Hub accepts {limit} at most"
            )
        reset_after = None
        if self.faults.upload_reset():
            reset_after = max(1, int(length) // 2) if length and length.isdigit() else 1
        try:
            form = await read_form(
                request.stream(),
                boundary,
                self.data_dir / "work",
                max_bytes=limit,
                reset_after=reset_after,
                on_reset=lambda: abort_connection(request),
            )
        except ResetNow:
            await asyncio.sleep(0)
            return Response(status_code=500)
        except ClientDisconnect:
            log.info("a client went away in the middle of its upload")
            return Response(status_code=400)
        except BodyTooLarge:
            return error(413, 41302, f"The upload is larger than {limit} bytes, this Hub's limit")
        except BadBody as exc:
            return error(400, 40001, f"Bad upload: {exc}")
        try:
            return self._accept(request, user, form.fields, form.file, form.file_md5, update)
        except Rejection as exc:
            return JSONResponse(exc.body(), status_code=exc.code)
        finally:
            form.discard()

    def _accept(
        self,
        request: Request,
        user: str,
        fields: dict[str, str],
        file: Path | None,
        md5: str | None,
        update: bool,
    ) -> Response:
        arch = request.headers.get("jinameta-architecture")
        push = parse_push(fields, update=update, architecture=arch)
        if file is None:
            raise Rejection(400, 40001, "Missing the file part: upload the executor zip as `file`")
        if md5 != push.md5sum:
            raise Rejection(400, 40003, "md5sum does not match the uploaded file; upload again")
        executor, secret_hash = self._target(user, push, update)
        visibility = "public" if push.public else "private" if push.private else None
        new = NewTask(
            owner=user,
            name=executor.name if executor else push.ident,
            executor_id=executor.id if executor else None,
            visibility=visibility,
            tags=push.tags,
            protected_tags=push.protected,
            trace_id=request.headers.get("jinameta-session-id", "")[:64],
            data=self._task_data(request, push),
            build_env=push.build_env,
            set_secret_hash=secret_hash,
        )
        try:
            task, row = self.store.create_task(new)
        except TagProtected as exc:
            msg = f"tag `{exc.tag}` is protected and already exists"
            raise Rejection(403, 40301, msg, message="operation not allowed") from exc
        file.replace(self.data_dir / task.data["uploadedZipFile"])
        self.store.append(task.id, "report", {"status": "pending"})
        self.store.append(task.id, "push", {"type": "init", "subject": "createExecutor"})
        self.workers.submit(task)
        log.info(
            "%s accepted: %s/%s task %s tags %s platforms %s",
            "update" if update else "push",
            row.owner,
            row.name,
            task.id,
            ",".join([*push.tags, *push.protected]),
            ",".join(push.platforms),
        )
        extra = {"secret": push.secret} if update and push.secret else None
        lines = push_stream(
            self.store,
            self.bell,
            task.id,
            verbose=push.verbose,
            cut_after=self._cut("push"),
            stopping=self.stopping,
            complete_extra=extra,
        )
        return StreamingResponse(lines, status_code=201, media_type=NDJSON)

    def _cut(self, stream: str) -> int | None:
        cut = self.faults.stream_cut(stream)
        if cut is not None:
            log.warning("fault fired: stream-cut:%d (%s stream)", cut, stream)
        return cut

    def _target(
        self, user: str, push: PushFields, update: bool
    ) -> tuple[ExecutorRow | None, str | None]:
        """The executor a push/update goes to (None: create), and a secret hash to set."""
        if not update:
            return self.store.executor_by_name(user, push.ident), None
        executor = self.reads.resolve(push.ident, user)
        if executor is None or (executor.owner != user and executor.visibility == "private"):
            msg = f"Executor {push.ident[:80]!r} not found; push it first (without --force-update)"
            raise Rejection(404, 40403, msg)
        if executor.owner != user:
            msg = (
                f"Executor {push.ident[:80]!r} belongs to {executor.owner}; you can push only into "
                "your own namespace"
            )
            raise Rejection(403, 40301, msg)
        secret = push.secret or ""
        if executor.secret_hash is None:
            return executor, auth.hash_token(secret)
        if not auth.token_matches(secret, executor.secret_hash):
            msg = f"The secret does not match executor {push.ident[:80]!r}"
            raise Rejection(403, 40102, msg, message="authentication failed")
        return executor, None

    @staticmethod
    def _task_data(request: Request, push: PushFields) -> dict[str, Any]:
        meta = {
            k[len("jinameta-") :]: v[:200]
            for k, v in request.headers.items()
            if k.startswith("jinameta-")
        }
        env = {
            k[len("jina_") :]: v[:200] for k, v in request.headers.items() if k.startswith("jina_")
        }
        client = request.client.host if request.client else None
        return {
            "md5sum": push.md5sum,
            "normalizedZipFile": None,
            "jinaEnv": {"meta": meta, "env": env, "clientIp": client},
            "buildParams": {
                "noCache": push.no_cache,
                "buildArgs": {"ARG_BUILD_DATE": now_iso()},
                "buildSecrets": sorted(push.build_env),
                "platforms": push.platforms,
                "dockerfile": push.dockerfile,
            },
        }

    async def list_tasks(self, request: Request) -> Response:
        try:
            fields = await self._fields(request)
            user = self.user(request)
            if user is None:
                return unauthorized()
            data = self.reads.list_tasks(user, fields)
        except Rejection as exc:
            return JSONResponse(exc.body(), status_code=exc.code)
        return JSONResponse({"code": 200, "status": 20000, "message": "success", "data": data})

    async def query_progress(self, request: Request) -> Response:
        try:
            fields = await self._fields(request)
            user = self.user(request)
            if user is None:
                return unauthorized()
            task_id = str(fields.get("id") or "").strip()
            if not task_id:
                raise bad("Missing id: give the task id (`jina hub status --id TASK`)")
            replay = parse_bool(fields, "replay")
            verbose = parse_bool(fields, "verbose")
        except Rejection as exc:
            return JSONResponse(exc.body(), status_code=exc.code)
        task = self.store.task(task_id)
        if task is None or task.owner != user:
            return error(404, 40403, f"Task {task_id[:40]!r} not found among your build tasks")
        lines: AsyncIterator[bytes] = status_stream(
            self.store,
            self.bell,
            task,
            replay=replay,
            verbose=verbose,
            cut_after=self._cut("status"),
            stopping=self.stopping,
        )
        return StreamingResponse(lines, media_type=NDJSON)

    async def get_package(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        try:
            fields = await self._fields(request)
            user = self.user(request)
            # the first answer for a build may make its package (a copy of the bundle)
            data = await asyncio.to_thread(self.reads.package, fields, user, base)
        except Rejection as exc:
            return JSONResponse(exc.body(), status_code=exc.code)
        return JSONResponse({"code": 200, "status": 20000, "message": "success", "data": data})

    async def download(self, request: Request) -> Response:
        build = self.store.build_by_id(request.path_params["build_id"])
        executor = self.store.executor_by_id(build.executor_id) if build else None
        user = self.user(request)
        if build is None or executor is None:
            return error(404, 40403, "No such package")
        signed = self.reads.signer is not None and self.reads.signer.verify(
            download_path(build.id),
            request.query_params.get("expires"),
            request.query_params.get("signature"),
        )
        if not signed and not self.reads.visible(executor, user, None):
            return error(404, 40403, "No such package")  # the same answer as for no executor
        if not (self.data_dir / build.bundle).is_file():
            return error(404, 40403, "The package file is gone from this Hub")
        path, _md5 = await asyncio.to_thread(self.reads.package_file, build)
        return FileResponse(path, media_type="application/zip", filename=f"{executor.id}.zip")
