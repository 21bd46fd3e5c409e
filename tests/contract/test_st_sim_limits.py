"""Synchroteam simulator: per-minute rate limit and daily quota, their headers and 429 answers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulators.synchroteam.testing import StClient

DEFAULTS = {"requests_per_minute": 120, "daily_quota": 50000}


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> Iterator[StClient]:
    """Start from the default limits; give back whatever limits the shared simulator had before."""
    saved = st.admin("GET", "/_sim/limits").json()
    st.admin("POST", "/_sim/limits", json=DEFAULTS).raise_for_status()
    yield StClient(st.url)
    st.admin("POST", "/_sim/limits", json=saved).raise_for_status()


def sim_now(st: Any) -> datetime:
    return datetime.fromisoformat(st.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))


def to_minute_start(st: Any) -> datetime:
    """Move the clock to one second past a minute boundary so a fixed window cannot roll over mid-test."""
    now = sim_now(st)
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 61 - now.second - now.microsecond / 1e6})
    return sim_now(st)


def test_limit_headers(st: Any, client: StClient) -> None:
    now = to_minute_start(st)
    resp = client.get("customer/list")
    assert resp.headers["X-RateLimit-Limit"] == "120" and resp.headers["X-RateLimit-Remaining"] == "119"
    reset = int(resp.headers["X-RateLimit-Reset"])
    assert reset % 60 == 0 and 0 < reset - now.timestamp() <= 60
    assert resp.headers["X-Quota-Limit"] == "50000" and resp.headers["X-Quota-Remaining"] == "49999"
    second = client.get("customer/details", id=1)
    assert second.status_code == 404 and second.headers["X-RateLimit-Remaining"] == "118"
    assert second.headers["X-Quota-Remaining"] == "49998"


def test_rate_limit_429_then_next_window(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 3, "daily_quota": 0}).raise_for_status()
    now = to_minute_start(st)
    remaining = [client.get("customer/list").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.get("customer/list")
    assert refused.status_code == 429
    assert refused.json()["code"] == 429 and refused.json()["message"]
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60 and abs(retry - (60 - (now.second))) <= 2
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-Quota-Limit" not in refused.headers
    assert client.post("customer/send", {"name": "x", "address": "y"}).status_code == 429
    assert st.admin("GET", "/_sim/state").json()["customers"] == []
    st.admin("POST", "/_sim/clock", json={"advance_seconds": retry})
    again = client.get("customer/list")
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "2"


def test_unauthenticated_calls_do_not_count(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 2, "daily_quota": 0}).raise_for_status()
    to_minute_start(st)
    for _ in range(3):
        assert StClient(st.url, "demo", "bad").get("customer/list").status_code == 401
    assert client.get("customer/list").headers["X-RateLimit-Remaining"] == "1"


def test_daily_quota_429_until_utc_midnight(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 2}).raise_for_status()
    now = sim_now(st)
    if now.hour == 23 and now.minute >= 58:  # keep the whole test inside one UTC day
        st.admin("POST", "/_sim/clock", json={"advance_seconds": 300})
        now = sim_now(st)
    first, second = client.get("customer/list"), client.get("part/list")
    assert (first.headers["X-Quota-Remaining"], second.headers["X-Quota-Remaining"]) == ("1", "0")
    assert "X-RateLimit-Limit" not in first.headers
    refused = client.get("invoice/list")
    assert refused.status_code == 429 and refused.headers["X-Quota-Remaining"] == "0"
    assert refused.headers["X-Quota-Limit"] == "2" and refused.json()["code"] == 429
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    expected = math.ceil((midnight - sim_now(st)).total_seconds())
    assert abs(int(refused.headers["Retry-After"]) - expected) <= 3
    st.admin("POST", "/_sim/clock", json={"advance_seconds": int(refused.headers["Retry-After"]) + 1})
    fresh = client.get("invoice/list")
    assert fresh.status_code == 200 and fresh.headers["X-Quota-Remaining"] == "1"


def test_limits_are_per_account(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "other", "api_key": "k"}]})
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 1, "daily_quota": 0}).raise_for_status()
    to_minute_start(st)
    assert client.get("customer/list").status_code == 200
    assert client.get("customer/list").status_code == 429
    assert StClient(st.url, "other", "k").get("customer/list").status_code == 200


def test_limits_survive_reset_and_counters_do_not(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 1}).raise_for_status()
    to_minute_start(st)
    client.get("customer/list")
    assert client.get("customer/list").status_code == 429
    st.reset()
    assert st.admin("GET", "/_sim/limits").json() == {"requests_per_minute": 1, "daily_quota": 50000}
    assert client.get("customer/list").status_code == 200


@pytest.mark.parametrize("body", [{"requests_per_minute": -1}, {"daily_quota": "many"}, {"daily_quota": True}])
def test_bad_limits_are_400(st: Any, client: StClient, body: dict[str, Any]) -> None:
    assert st.admin("POST", "/_sim/limits", json=body).status_code == 400
