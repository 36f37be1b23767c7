"""``hubci hub serve``: run a local Executor Hub that speaks the real Hub's protocol."""

from __future__ import annotations

from pathlib import Path

import click

from hubci import rules

FAULT_HELP = (
    "Inject a fault (repeatable): upload-status:CODE:N, upload-reset:N, stream-cut:K, "
    "whoami-status:CODE:N, slow-build:SECONDS, fail-build:PLATFORM."
)


@click.group("hub")
def hub() -> None:
    """Run a local Executor Hub (docs/local-hub.md)."""


@hub.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to bind; 0 picks a free one.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="State folder (default: the per-user data folder, e.g. ~/.local/share/hubci/hub).",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="NAME=TOKEN",
    envvar="HUBCI_HUB_USERS",
    help="An account that may log in (repeatable; or HUBCI_HUB_USERS, space-separated). "
    "Without any, a user `local` with a random token is created.",
)
@click.option(
    "--builder",
    type=click.Choice(["check", "docker"]),
    default="check",
    show_default=True,
    help="check: verify and simulate the build; docker: build real images.",
)
@click.option(
    "--registry",
    metavar="URL",
    envvar="HUBCI_HUB_REGISTRY",
    help="Push every built image to this registry (http(s)://HOST[:PORT]; needs --builder "
    "docker); the Hub issues its tokens (docs/self-hosting.md).",
)
@click.option("--fault", "faults", multiple=True, metavar="SPEC", help=FAULT_HELP)
@click.option(
    "--build-seconds",
    type=click.FloatRange(0, 3600),
    default=rules.HUB_DEFAULT_BUILD_SECONDS,
    show_default=True,
    help="How long the check builder takes per platform.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Builds that run at the same time.",
)
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    users: tuple[str, ...],
    builder: str,
    registry: str | None,
    faults: tuple[str, ...],
    build_seconds: float,
    workers: int,
) -> None:
    """Serve the Hub; prints `hubci hub listening on URL` once ready. SIGTERM/SIGINT stop it."""
    from hubci.server.serve import ServeOptions, run_serve

    run_serve(
        ServeOptions(
            host=host,
            port=port,
            data_dir=data_dir,
            users=users,
            builder=builder,
            registry=registry,
            faults=faults,
            build_seconds=build_seconds,
            workers=workers,
        )
    )
