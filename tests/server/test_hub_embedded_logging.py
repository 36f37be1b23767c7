"""The embedded Hub keeps asyncio's 'client went away' warning off the CLI user's stderr."""

from __future__ import annotations

import logging
from pathlib import Path

from hubci.server.embedded import embedded_hub
from testing.hub import USERS


def _passes(message: str) -> bool:
    record = logging.LogRecord("asyncio", logging.WARNING, __file__, 1, message, None, None)
    return logging.getLogger("asyncio").filter(record)


def test_peer_gone_warning_is_dropped_only_while_the_hub_runs(tmp_path: Path) -> None:
    assert _passes("socket.send() raised exception.")
    with embedded_hub(data_dir=tmp_path / "hub", users=USERS):
        assert not _passes("socket.send() raised exception.")
        assert _passes("Task was destroyed but it is pending!")
    assert _passes("socket.send() raised exception.")
