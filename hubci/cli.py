"""The ``hubci`` command line: a click group whose commands are loaded lazily.

Each command lives in ``hubci/commands/<name>.py`` and stays thin: parse, build a plan, call a
function, render. Lazy loading keeps ``hubci validate`` (the pre-commit hook) free of the HTTP,
Docker and GitHub libraries that other commands need.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from hubci import __version__
from hubci.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, HubciError

#: command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "validate": "hubci.commands.validate:validate",
    "tags": "hubci.commands.tags:tags",
    "push": "hubci.commands.push:push",
    "status": "hubci.commands.status:status",
    "hub": "hubci.commands.hub:hub",
    "action": "hubci.commands.action:action",
    "matrix": "hubci.commands.matrix:matrix",
    "build": "hubci.commands.build:build",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":", 1)
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            msg = f"{target} is not a click command"
            raise TypeError(msg)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hubci")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """From a Jina Executor folder to a finished build on an Executor Hub."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _print_traceback() -> None:
    import traceback  # only with --debug: keeps the hook's start-up lean

    from hubci.output.console import Console

    Console().err(traceback.format_exc().rstrip("\n"))


def main(argv: list[str] | None = None) -> None:
    """Entry point: renders every error once, as one line, with the right exit code."""
    import warnings

    from hubci.output.console import Console, show_warning

    warnings.showwarning = show_warning
    console = Console()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rv: Any = cli.main(args=args, prog_name="hubci", standalone_mode=False)
    except HubciError as exc:
        if debug:
            _print_traceback()
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # one line, like every other error: what is wrong and where the help is
        command = exc.ctx.command_path if exc.ctx is not None else "hubci"
        console.err(f"hubci: error: {exc.format_message()} (see '{command} --help')", tone="error")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        console.err(f"hubci: error: {exc.format_message()}", tone="error")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        console.err("hubci: interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            _print_traceback()
        console.err(
            f"hubci: internal error: {type(exc).__name__}: {exc} "
            f"(please report this with `hubci --debug ...` output; hubci {__version__})"
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)
