"""The exception hierarchy: one exit code per class, one line that says what to do.

Exit codes (documented in the README):
  0  success (build succeeded, no validation errors)
  1  build failed, the normalizer rejected the bundle, or validation found errors (validate)
  2  usage error, or validation errors that stop a push before any network call
  3  Hub or network error after retries; no Docker Engine reachable (build)
  4  timed out waiting for the build (the build may still finish)
  70  internal error (a bug in hubci; report it with the --debug output)
  130 interrupted (Ctrl-C / SIGINT)
"""

from __future__ import annotations

from typing import IO, Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HUB = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


class HubciError(click.ClickException):
    """Base class: a one-line message and, optionally, a hint that names the fix."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def format_message(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        from hubci.output.console import Console

        Console(stderr=file).err(  # type: ignore[arg-type]
            f"hubci: error: {self.format_message()}", tone="error"
        )


class UsageError(HubciError):
    """Bad options or arguments; nothing was sent anywhere."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A file or setting the user gave cannot be used."""


class ValidationError(HubciError):
    """Validation found errors (``hubci push`` stops before any network call)."""

    exit_code = EXIT_USAGE


class BuildFailed(HubciError):
    """The Hub build failed or the normalizer rejected the bundle."""

    exit_code = EXIT_FAILED


class HubError(HubciError):
    """The Hub or the network failed, after retries."""

    exit_code = EXIT_HUB


class AuthError(HubError):
    """The Hub refused the credentials."""


class EngineUnavailable(HubciError):
    """No Docker Engine API could be reached."""

    exit_code = EXIT_HUB


class BuildTimeout(HubciError):
    """The build did not finish within --timeout; it may still finish on the Hub."""

    exit_code = EXIT_TIMEOUT


class Interrupted(HubciError):
    exit_code = EXIT_INTERRUPTED
