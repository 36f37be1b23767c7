"""The retry policy for Hub calls: bounded, logged, with an injectable clock.

Only what is safe is retried (decided by the caller, which raises :class:`Retryable`): connect
errors, HTTP 502/503/504 and 429. Waits grow exponentially with jitter; a ``Retry-After`` from the
server is honoured up to a cap. Both the number of attempts and the total time are bounded, and
each retry is announced on one line ("attempt 2/5 in 4.0s: HTTP 503 from executor.push").
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

T = TypeVar("T")


class Retryable(Exception):
    """Raised inside an attempt that may be repeated; ``reason`` is the one-line cause."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RetriesExhausted(Exception):
    def __init__(self, last: Retryable, attempts: int) -> None:
        super().__init__(last.reason)
        self.last = last
        self.attempts = attempts


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    total_seconds: float = 120.0
    initial_wait: float = 1.0
    max_wait: float = 30.0
    retry_after_cap: float = 60.0
    jitter: float = 1.0
    #: Called to wait (default: time.sleep); tests pass one that records and returns at once.
    sleep: Callable[[float], None] | None = field(default=None, compare=False)

    def wait_for(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` is 1-based)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_cap))
        base = min(self.max_wait, self.initial_wait * (2 ** (attempt - 1)))
        return float(min(self.max_wait, base + random.uniform(0, self.jitter)))


def default_sleep(seconds: float) -> None:
    """The wait between attempts unless the policy names another (looked up at call time)."""
    time.sleep(seconds)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def call_with_retry(
    policy: RetryPolicy,
    func: Callable[[], T],
    *,
    log: Callable[[str], None],
) -> T:
    """Run ``func`` until it returns, raises something other than Retryable, or the budget ends.

    Raises :class:`RetriesExhausted` when the last attempt still raised Retryable.
    """

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, Retryable) else None
        return policy.wait_for(state.attempt_number, retry_after)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.reason if isinstance(exc, Retryable) else "error"
        delay = state.upcoming_sleep
        log(f"attempt {state.attempt_number + 1}/{policy.attempts} in {delay:.1f}s: {reason}")

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Retryable),
        stop=tenacity.stop_after_attempt(policy.attempts)
        | tenacity.stop_before_delay(policy.total_seconds),
        wait=wait,
        sleep=policy.sleep or default_sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        return func()

    try:
        return retrying(counted)
    except Retryable as exc:
        raise RetriesExhausted(exc, attempts) from exc
