"""``hubci hub serve`` in the foreground: one stdout line when listening, logs on stderr."""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from hubci.errors import ConfigError
from hubci.image.registry import RegistryTarget, parse_registry_url
from hubci.output.console import Console
from hubci.secret import Secret
from hubci.server.config import (
    LOCAL_TOKEN_FILE,
    HubConfig,
    check_accounts,
    default_data_dir,
    parse_user,
    prepare_data_dir,
    write_private,
)
from hubci.server.faults import parse_fault
from hubci.server.registry_tokens import CERT_FILE, ISSUER

log = logging.getLogger("hubci.server")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    data_dir: Path | None
    users: Sequence[str]  # NAME=TOKEN
    builder: str
    faults: Sequence[str]
    build_seconds: float
    workers: int
    registry: str | None = None  # URL


def _configure_logging() -> None:
    """Log records (they quote clients, builds and executors) redacted and made inert."""
    from hubci.output.logs import install, safe_log_handler

    install()
    root = logging.getLogger()
    root.addHandler(safe_log_handler(sys.stderr))
    root.setLevel(logging.INFO)


def _registry(options: ServeOptions) -> RegistryTarget | None:
    """``--registry``, checked; ConfigError naming the fix."""
    if options.registry is None:
        return None
    try:
        target = parse_registry_url(options.registry)
    except ValueError as exc:
        msg = f"--registry: {exc}"
        raise ConfigError(msg, hint="e.g. --registry http://127.0.0.1:5000") from None
    if options.builder != "docker":
        msg = "--registry needs --builder docker: the check builder makes no images to push"
        raise ConfigError(msg, hint="add --builder docker, or leave out --registry")
    return target


def run_serve(options: ServeOptions) -> None:
    """Serve until SIGTERM/SIGINT; raise ConfigError/UsageError for bad options."""
    from hubci.server.app import Hub
    from hubci.server.auth import new_token
    from hubci.server.runner import HubServer, data_dir_lock, is_loopback, listen, url_of

    for spec in options.faults:
        parse_fault(spec)
    registry = _registry(options)
    users = check_accounts(parse_user(spec) for spec in options.users)
    generated = not users
    if generated:
        users = {"local": Secret(new_token())}
    folder = prepare_data_dir(options.data_dir or default_data_dir())
    config = HubConfig(
        data_dir=folder,
        users=users,
        builder=options.builder,
        faults=tuple(options.faults),
        build_seconds=options.build_seconds,
        workers=options.workers,
        registry=registry,
    )
    _configure_logging()
    with ExitStack() as stack:
        stack.enter_context(data_dir_lock(folder))
        sock = listen(options.host, options.port)
        stack.callback(sock.close)
        hub = Hub(config)
        stack.callback(hub.close)
        token_file = folder / LOCAL_TOKEN_FILE
        token_file.unlink(missing_ok=True)
        if generated:
            write_private(token_file, (users["local"].reveal() + "\n").encode())
        if hub.recovered:
            log.warning(
                "%d build(s) interrupted by the last stop were marked failed", hub.recovered
            )
        server = HubServer(hub, access_log=True)
        url = url_of(sock)

        console = Console()

        def started() -> None:
            console.out(f"hubci hub listening on {url}")
            log.info(
                "data folder %s, builder %s, users %s", folder, config.builder, ", ".join(users)
            )
            if registry is not None:
                log.info(
                    "images go to %s; its auth.token: realm %s/v2/registry/token, issuer %s, "
                    "rootcertbundle %s",
                    registry.url,
                    url,
                    ISSUER,
                    folder / CERT_FILE,
                )
            if not is_loopback(options.host):
                log.warning("listening on %s: anyone who can reach it can try tokens", url)
            if generated:
                console.err(
                    "hubci hub: no --user given; created user `local` for this run, its token is "
                    f"in {token_file} (readable by you only). Use it with:\n"
                    f"  export JINA_HUBBLE_REGISTRY={url} "
                    f"JINA_AUTH_TOKEN=$(cat {shlex.quote(str(token_file))})\n"
                    f"  then `hubci push FOLDER --hub {url}` or `jina hub push FOLDER`"
                )

        asyncio.run(server.serve_until_started(sock, started))
        log.info("stopped")
