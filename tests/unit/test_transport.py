"""Retry schedules and client-side limits (no network)."""

from __future__ import annotations

import pytest

from stqbo_api.transport import RetryPolicy, SlidingWindowLimiter, limits_for, reset_limits


@pytest.mark.parametrize("rnd", [0.0, 0.5, 0.999], ids=["low-jitter", "mid-jitter", "high-jitter"])
def test_a_throttle_without_retry_after_outlasts_a_minute(rnd: float) -> None:
    policy = RetryPolicy(random=lambda: rnd)
    waits = [policy.delay(n, throttled=True) for n in range(1, policy.attempts(throttled=True))]
    assert sum(waits) > 60, waits
    assert max(waits) <= policy.throttle_cap
    assert policy.attempts(throttled=True) > policy.attempts(throttled=False)


def test_retry_after_still_wins_and_other_errors_keep_their_schedule() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    assert policy.delay(3, retry_after=7.0, throttled=True) == 7.0
    assert policy.delay(1) == policy.backoff_base and policy.delay(10) == policy.backoff_cap


def test_per_second_budget_spaces_a_burst() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(10, window=1.0, clock=lambda: now[0],
                                   sleep=lambda s: now.__setitem__(0, now[0] + s))
    for _ in range(25):
        limiter.acquire()
    assert now[0] >= 2.0   # 25 requests at 10 a second take at least two seconds


def test_quickbooks_realms_get_a_per_second_budget() -> None:
    reset_limits()
    try:
        limits = limits_for("quickbooks", "realm-x")
        assert limits.per_second is not None and limits.per_second.limit == 10
        assert limits_for("quickbooks", "realm-x") is limits
    finally:
        reset_limits()
