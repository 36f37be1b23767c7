"""Log records made safe: for the local Hub's logs, which quote what clients and builds send."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from hubci.output.console import safe


class SafeFormatter(logging.Formatter):
    """A log formatter whose records (message, arguments, tracebacks) are redacted and made
    inert: for the local Hub's logs, which quote what clients and builds send."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record))


def safe_log_handler(stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (like logging's own last
    resort)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never raise
            self.handleError(record)


def install() -> None:
    """Make the process's last-resort log handler (warnings of libraries nobody configured)
    safe too."""
    handler = _StderrHandler(logging.WARNING)
    handler.setFormatter(SafeFormatter("%(message)s"))
    logging.lastResort = handler
