"""The retry policy: bounded attempts, logged lines, Retry-After honoured and capped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from hubci.hub.retry import (
    RetriesExhausted,
    Retryable,
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)


def _policy(waits: list[float], **kw: float) -> RetryPolicy:
    return RetryPolicy(sleep=waits.append, jitter=0.0, **kw)  # type: ignore[arg-type]


def test_retries_until_success_and_logs_each_attempt() -> None:
    waits: list[float] = []
    logs: list[str] = []
    calls = iter([Retryable("HTTP 503 from executor.push"), Retryable("connect timeout from x")])

    def attempt() -> str:
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return "ok"

    assert call_with_retry(_policy(waits), attempt, log=logs.append) == "ok"
    assert waits == [1.0, 2.0]
    assert logs == [
        "attempt 2/5 in 1.0s: HTTP 503 from executor.push",
        "attempt 3/5 in 2.0s: connect timeout from x",
    ]


def test_retry_after_is_honoured_and_capped() -> None:
    waits: list[float] = []
    calls = iter([Retryable("HTTP 429", retry_after=7), Retryable("HTTP 429", retry_after=900)])

    def attempt() -> None:
        exc = next(calls, None)
        if exc is not None:
            raise exc

    call_with_retry(_policy(waits, retry_after_cap=60), attempt, log=lambda _: None)
    assert waits == [7, 60]


def test_attempts_are_bounded() -> None:
    waits: list[float] = []

    def attempt() -> None:
        raise Retryable("HTTP 502 from user.identity.whoami")

    with pytest.raises(RetriesExhausted) as info:
        call_with_retry(_policy(waits, attempts=3), attempt, log=lambda _: None)
    assert info.value.attempts == 3
    assert len(waits) == 2


def test_total_time_is_bounded() -> None:
    waits: list[float] = []

    def attempt() -> None:
        raise Retryable("HTTP 503", retry_after=30)

    # The next wait (30s) would pass the 10s budget: stop after the first attempt.
    with pytest.raises(RetriesExhausted) as info:
        call_with_retry(_policy(waits, total_seconds=10), attempt, log=lambda _: None)
    assert info.value.attempts == 1
    assert waits == []


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        call_with_retry(_policy([]), attempt, log=lambda _: None)
    assert calls == [1]


def test_exponential_waits_are_capped() -> None:
    policy = RetryPolicy(initial_wait=1, max_wait=8, jitter=0)
    assert [policy.wait_for(n, None) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    value = parse_retry_after(later)
    assert value is not None
    assert 100 < value <= 120


def test_following_retries_stay_within_the_callers_deadline() -> None:
    """queryProgress retries stop before a wait would pass the follow deadline (--timeout)."""
    import socket

    from hubci.errors import HubError
    from hubci.hub.client import HubClient
    from hubci.secret import Secret

    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    logs: list[str] = []
    client = HubClient(
        f"http://127.0.0.1:{port}", Secret("t0ken-x"), retry=_policy(waits), log=logs.append
    )
    with client:
        with pytest.raises(HubError, match=r"connection refused from executor\.queryProgress"):
            client.query_progress("t1", replay=True, verbose=False, within=3.5)
        assert waits == [1.0, 2.0]  # the next wait (4 s) would pass the 3.5 s left
        waits.clear()
        with pytest.raises(HubError, match=r"after 5 attempt"):
            client.query_progress("t1", replay=True, verbose=False)
        assert waits == [1.0, 2.0, 4.0, 8.0]  # no deadline: the policy's own bounds
