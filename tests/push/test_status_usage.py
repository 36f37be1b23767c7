"""``hubci status`` without a Hub token: a usage error (exit 2) naming the Hub, as for push."""

from __future__ import annotations

import json
from pathlib import Path

from tests.push.conftest import Cli


def test_status_without_a_token_is_a_usage_error_naming_the_hub(cli: Cli, executor: Path) -> None:
    hub = "http://127.0.0.1:9"  # never contacted: the token is checked first
    run = cli("status", str(executor), "--hub-url", hub)
    assert run.code == 2, run.err
    assert run.out == ""
    assert run.err.strip().splitlines() == [
        f"hubci: error: no Hub token for {hub} (set JINA_AUTH_TOKEN, pass --token, "
        "or log in with `jina auth login`)"
    ]
    as_json = cli("status", "--id", "t1", "--hub-url", hub, "--format", "json")
    assert as_json.code == 2
    result = json.loads(as_json.out)
    assert result["status"] == "failed"
    assert result["error"].startswith(f"no Hub token for {hub}")
