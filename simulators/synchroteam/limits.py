"""Per-account rate limit (fixed one-minute windows) and daily quota (reset at 00:00 UTC), on the simulator clock.

Only requests that get through count: a request answered 429 does not use up the window or the quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from simulators.synchroteam.clock import next_utc_midnight
from simulators.synchroteam.errors import ApiError
from simulators.synchroteam.store import Account


@dataclass
class Limits:
    """`0` means unlimited (and the matching headers are left out)."""

    requests_per_minute: int = 120
    daily_quota: int = 50000

    def as_dict(self) -> dict[str, int]:
        return {"requests_per_minute": self.requests_per_minute, "daily_quota": self.daily_quota}


def _roll(account: Account, now: datetime) -> float:
    ts = now.timestamp()
    window = math.floor(ts / 60) * 60
    if account.window_start != window:
        account.window_start = window
        account.window_count = 0
    day = now.strftime("%Y-%m-%d")
    if account.quota_day != day:
        account.quota_day = day
        account.quota_count = 0
    return ts


def _headers(limits: Limits, account: Account) -> dict[str, str]:
    headers: dict[str, str] = {}
    if limits.requests_per_minute:
        headers["X-RateLimit-Limit"] = str(limits.requests_per_minute)
        headers["X-RateLimit-Remaining"] = str(max(0, limits.requests_per_minute - account.window_count))
        headers["X-RateLimit-Reset"] = str(int(account.window_start + 60))
    if limits.daily_quota:
        headers["X-Quota-Limit"] = str(limits.daily_quota)
        headers["X-Quota-Remaining"] = str(max(0, limits.daily_quota - account.quota_count))
    return headers


def consume(limits: Limits, account: Account, now: datetime) -> dict[str, str]:
    """Count one request and return the limit headers, or raise the 429 that refuses it."""
    ts = _roll(account, now)
    if limits.daily_quota and account.quota_count >= limits.daily_quota:
        headers = _headers(limits, account)
        headers["Retry-After"] = str(max(1, math.ceil(next_utc_midnight(now).timestamp() - ts)))
        raise ApiError(429, "Daily API quota exceeded; it resets at 00:00 UTC.", headers)
    if limits.requests_per_minute and account.window_count >= limits.requests_per_minute:
        headers = _headers(limits, account)
        headers["Retry-After"] = str(max(1, math.ceil(account.window_start + 60 - ts)))
        raise ApiError(429, "Too many requests: rate limit exceeded.", headers)
    account.window_count += 1
    account.quota_count += 1
    return _headers(limits, account)
