"""SynchroteamClient / SynchroteamHook against the Synchroteam simulator, faults injected via `/_sim/faults`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devenv.sims import ST_TIMEZONE
from stqbo_api.errors import (
    AuthError,
    ConfigurationError,
    QuotaExhaustedError,
    RetriableApiError,
    ValidationError,
)
from stqbo_api.synchroteam import SynchroteamClient, account_zone, local_filter, to_utc
from stqbo_api.transport import RetryPolicy

DOMAIN, API_KEY = "demo", "demo-api-key"


class Sleeps(list[float]):
    """Records the waits the client asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def client(st: Any, sleeps: Sleeps) -> SynchroteamClient:
    return SynchroteamClient(
        st.url, DOMAIN, API_KEY, read_timeout=0.5, connect_timeout=2, timezone=ST_TIMEZONE,
        retry_policy=RetryPolicy(backoff_base=0.01, sleep=sleeps),
    )


@pytest.fixture()
def limited(st: Any) -> Iterator[Any]:
    """Restore the simulator's default limits after a test that changes them (reset keeps limits)."""
    before = st.admin("GET", "/_sim/limits").json()
    yield st
    st.admin("POST", "/_sim/limits", json=before).raise_for_status()


def _seed(st: Any, **body: Any) -> dict[str, Any]:
    resp = st.admin("POST", "/_sim/seed", json=body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _customer(n: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"Customer {n:03d}", "address": f"{n} Main Street, Springfield", **extra}


def _api_calls(st: Any, fragment: str) -> list[dict[str, Any]]:
    return [r for r in st.requests_log() if fragment in r["path"]]


def test_list_customers_pages_by_100_and_lists_active_and_inactive(st: Any, client: SynchroteamClient) -> None:
    customers = [_customer(n) for n in range(230)] + [_customer(900 + n, active=False) for n in range(3)]
    _seed(st, customers=customers)
    st.admin("DELETE", "/_sim/requests")
    names = [c["name"] for c in client.list_customers()]
    assert len(names) == 233 and len(set(names)) == 233
    assert {c["name"] for c in client.list_customers(active=False)} == {f"Customer {900 + n:03d}" for n in range(3)}
    lists = _api_calls(st, "/customer/list")
    assert {r["query"]["pageSize"] for r in lists} == {"100"}
    assert sorted(r["query"]["page"] for r in lists if r["query"]["active"] == "true")[:3] == ["1", "2", "3"]


def test_changed_since_is_sent_in_the_accounts_local_time_and_filters(st: Any, client: SynchroteamClient) -> None:
    seeded = _seed(st, customers=[_customer(1), _customer(2)])["customers"]
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 3600})
    st.admin("PATCH", f"/_sim/customers/{seeded[1]['id']}", json={"contactEmail": "two@example.com"})
    since = datetime.now(UTC) + timedelta(minutes=30)
    st.admin("DELETE", "/_sim/requests")
    changed = list(client.list_customers(changed_since=since))
    assert [c["name"] for c in changed] == ["Customer 002"]
    sent = _api_calls(st, "/customer/list")[0]["query"]["changedSince"]
    assert sent == since.astimezone(ZoneInfo(ST_TIMEZONE)).strftime("%Y-%m-%d %H:%M:%S")   # New York, not UTC
    assert client.to_utc(changed[0]["dateModified"]) >= since.replace(second=0, microsecond=0)


def test_get_send_and_delete_customer(st: Any, client: SynchroteamClient) -> None:
    created = client.send_customer({"myId": "QBO-58", "name": "ACME Corp", "address": "1 Water St, New York"})
    assert created["id"] and created["myId"] == "QBO-58"
    assert client.get_customer(id=created["id"])["name"] == "ACME Corp"  # type: ignore[index]
    assert client.get_customer(my_id="QBO-58")["id"] == created["id"]  # type: ignore[index]
    assert client.get_customer(name="ACME Corp")["id"] == created["id"]  # type: ignore[index]
    assert client.get_customer(name="Nobody") is None
    updated = client.send_customer({"id": created["id"], "contactEmail": "jane@acme.com"})
    assert updated["contactEmail"] == "jane@acme.com" and updated["name"] == "ACME Corp"
    client.delete_customer(id=created["id"])
    assert client.get_customer(id=created["id"]) is None
    client.delete_customer(id=created["id"])  # already gone: not an error
    with pytest.raises(ValueError):
        client.get_customer(id=1, name="x")


def test_invalid_customer_is_a_validation_error_and_not_retried(st: Any, client: SynchroteamClient) -> None:
    st.admin("DELETE", "/_sim/requests")
    with pytest.raises(ValidationError):
        client.send_customer({"myId": "x-1"})  # no name, no address
    assert len(_api_calls(st, "/customer/send")) == 1


def test_invoices_and_parts(st: Any, client: SynchroteamClient) -> None:
    customers = _seed(st, customers=[_customer(1), _customer(2)])["customers"]
    _seed(
        st,
        parts=[{"reference": "SVC-HOUR", "name": "Labour hour", "price": "85.00", "type": "service"}],
        invoices=[
            {"customer": {"id": customers[0]["id"]}, "status": "sent"},
            {"customer": {"id": customers[0]["id"]}, "status": "paid"},
            {"customer": {"id": customers[1]["id"]}, "status": "sent"},
        ],
    )
    assert len(list(client.list_invoices())) == 3
    mine = list(client.list_invoices(customer_id=customers[0]["id"]))
    assert len(mine) == 2 and all(i["customer"]["id"] == customers[0]["id"] for i in mine)
    assert [i["status"] for i in client.list_invoices(status="paid")] == ["paid"]
    assert len(list(client.list_invoices(changed_since=datetime.now(UTC) - timedelta(hours=1)))) == 3
    assert client.get_invoice(mine[0]["id"])["id"] == mine[0]["id"]  # type: ignore[index]
    assert client.get_invoice(999999) is None
    assert [p["reference"] for p in client.list_parts()] == ["SVC-HOUR"]
    assert client.get_part("SVC-HOUR")["name"] == "Labour hour"  # type: ignore[index]
    assert client.get_part("NOPE") is None
    sent = client.send_part({"reference": "SVC-HOUR", "name": "Labour (hour)"})
    assert sent["name"] == "Labour (hour)" and len(list(client.list_parts())) == 1


def test_503_twice_then_success(st: Any, client: SynchroteamClient, sleeps: Sleeps) -> None:
    _seed(st, customers=[_customer(1)])
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/list", "action": "error",
                                                       "status": 503, "times": 2}]})
    st.admin("DELETE", "/_sim/requests")
    assert [c["name"] for c in client.list_customers(active=True)] == ["Customer 001"]
    assert [r["status"] for r in _api_calls(st, "/customer/list")] == [503, 503, 200]
    assert len(sleeps) == 2 and all(0 <= s <= 0.02 for s in sleeps)


def test_429_honours_retry_after(st: Any, client: SynchroteamClient, sleeps: Sleeps) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/list", "action": "throttle",
                                                       "retry_after": 3, "times": 1}]})
    assert list(client.list_customers(active=True)) == []
    assert sleeps == [3.0]


def test_timeout_is_retried(st: Any, client: SynchroteamClient, sleeps: Sleeps) -> None:
    _seed(st, customers=[_customer(1)])
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/details", "action": "timeout",
                                                       "delay": 2, "times": 1}]})
    assert client.get_customer(name="Customer 001") is not None
    assert len(sleeps) == 1


def test_lost_reply_of_a_keyed_send_is_retried_without_duplicate(st: Any, client: SynchroteamClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/send", "action": "drop_after_commit",
                                                       "times": 1}]})
    got = client.send_customer({"myId": "QBO-7", "name": "Dropped Ltd", "address": "7 Side St"})
    assert got["myId"] == "QBO-7"
    state = st.admin("GET", "/_sim/state").json()
    assert [c["name"] for c in state["customers"]] == ["Dropped Ltd"]


def test_lost_reply_of_an_unkeyed_send_is_not_retried(st: Any, client: SynchroteamClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/send", "action": "drop_after_commit",
                                                       "times": 1}]})
    with pytest.raises(RetriableApiError, match="lost"):
        client.send_customer({"name": "No Key Ltd", "address": "8 Side St"})
    assert len(_api_calls(st, "/customer/send")) == 1


def test_retries_stop_after_five_attempts(st: Any, client: SynchroteamClient, sleeps: Sleeps) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "/customer/list", "action": "error",
                                                       "status": 500, "times": 0}]})
    with pytest.raises(RetriableApiError) as info:
        list(client.list_customers(active=True))
    assert info.value.status == 500
    assert len(_api_calls(st, "/customer/list")) == 5 and len(sleeps) == 4


def test_quota_at_zero_stops_with_a_clear_message(limited: Any, client: SynchroteamClient) -> None:
    limited.admin("POST", "/_sim/limits", json={"daily_quota": 2}).raise_for_status()
    limited.admin("DELETE", "/_sim/requests")
    assert client.get_customer(id=1) is None
    assert client.get_customer(id=2) is None  # the server now says X-Quota-Remaining: 0
    with pytest.raises(QuotaExhaustedError) as info:
        client.get_customer(id=3)
    assert "quota" in info.value.message and "resets at" in info.value.message
    assert len(_api_calls(limited, "/customer/details")) == 2  # the third call never left the client
    fresh = SynchroteamClient(limited.url, DOMAIN, API_KEY, timezone=ST_TIMEZONE, retry_policy=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(QuotaExhaustedError):
        fresh.get_customer(id=4)  # a new client learns it from the 429 and does not retry
    assert len(_api_calls(limited, "/customer/details")) == 3


def test_rate_limit_headers_make_the_client_wait(limited: Any, client: SynchroteamClient, sleeps: Sleeps) -> None:
    limited.admin("POST", "/_sim/limits", json={"requests_per_minute": 2}).raise_for_status()
    client.get_customer(id=1)
    client.get_customer(id=2)  # X-RateLimit-Remaining: 0 now
    try:
        client.get_customer(id=3)
    except RetriableApiError:
        pass  # the recorded wait did not really pass; the server may still refuse
    assert sleeps and 0 < sleeps[0] <= 60


def test_bad_api_key_is_an_auth_error_without_retry(st: Any, sleeps: Sleeps) -> None:
    bad = SynchroteamClient(st.url, DOMAIN, "wrong-key", timezone=ST_TIMEZONE, retry_policy=RetryPolicy(sleep=sleeps))
    with pytest.raises(AuthError, match="API key"):
        bad.get_customer(id=1)
    assert sleeps == []
    ok, message = bad.test_connection()
    assert not ok and "wrong-key" not in message


def test_test_connection(st: Any, client: SynchroteamClient) -> None:
    _seed(st, customers=[_customer(1)])
    ok, message = client.test_connection()
    assert ok and "demo" in message


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        ("America/Los_Angeles", "2021-11-19 07:56", datetime(2021, 11, 19, 15, 56, tzinfo=UTC)),
        ("America/Los_Angeles", "2021-11-19 07:56:30", datetime(2021, 11, 19, 15, 56, 30, tzinfo=UTC)),
        ("Asia/Tokyo", "2021-11-19 07:56", datetime(2021, 11, 18, 22, 56, tzinfo=UTC)),
        ("Asia/Tokyo", "2021-11-19T07:56:00Z", datetime(2021, 11, 19, 7, 56, tzinfo=UTC)),
        ("Asia/Tokyo", "2021-11-19T09:56:00+02:00", datetime(2021, 11, 19, 7, 56, tzinfo=UTC)),
        ("UTC", "2021-11-19", datetime(2021, 11, 19, tzinfo=UTC)),
        # the repeated hour (clocks go back at 02:00 PDT): the earlier instant
        ("America/Los_Angeles", "2026-11-01 01:30", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ],
    ids=["west", "west-seconds", "east", "zulu", "offset", "utc-date", "repeated-hour"],
)
def test_to_utc_reads_local_time(zone: str, text: str, expected: datetime) -> None:
    parsed = to_utc(text, ZoneInfo(zone))
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("zone", "instant", "expected"),
    [
        ("America/Los_Angeles", datetime(2024, 5, 1, 2, 30, 5, tzinfo=timezone(timedelta(hours=2))),
         "2024-04-30 17:30:05"),
        ("Asia/Tokyo", datetime(2024, 5, 1, 0, 0, tzinfo=UTC), "2024-05-01 09:00:00"),
        ("UTC", datetime(2024, 5, 1, 0, 0), "2024-05-01 00:00:00"),
        # 08:20 UTC is 01:20 PDT, but "01:20" also means 01:20 PST (09:20 UTC): moved back to 00:20 PDT
        ("America/Los_Angeles", datetime(2026, 11, 1, 8, 20, tzinfo=UTC), "2026-11-01 00:20:00"),
        # 09:20 UTC is 01:20 PST, the later of the two readings: safe as it is
        ("America/Los_Angeles", datetime(2026, 11, 1, 9, 20, tzinfo=UTC), "2026-11-01 01:20:00"),
        # just after the clocks go forward (03:10 PDT = 10:10 UTC): an ordinary time
        ("America/Los_Angeles", datetime(2026, 3, 8, 10, 10, tzinfo=UTC), "2026-03-08 03:10:00"),
    ],
    ids=["west", "east", "utc-naive", "repeated-hour-first-pass", "repeated-hour-second-pass", "after-spring-forward"],
)
def test_local_filter_never_starts_late(zone: str, instant: datetime, expected: str) -> None:
    sent = local_filter(instant, ZoneInfo(zone))
    assert sent == expected
    wall = datetime.fromisoformat(sent)
    utc_instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    for fold in (0, 1):   # whichever instant the server takes, the read starts at or before the asked one
        assert wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC) <= utc_instant


def test_an_edit_in_the_repeated_hour_is_found_whichever_way_the_server_reads_the_filter(
        st: Any, client: SynchroteamClient) -> None:
    """The simulator reads a filter in the repeated hour as its later instant (the hardest reading): an edit made
    in the first pass of that hour, after the asked instant, is still returned."""
    st.admin("PATCH", "/_sim/account", json={"timezone": "America/Los_Angeles"})
    la = SynchroteamClient(st.url, DOMAIN, API_KEY, timezone="America/Los_Angeles",
                           retry_policy=RetryPolicy(backoff_base=0.01, sleep=lambda s: None))
    _seed(st, customers=[{**_customer(1), "dateModified": "2026-11-01T08:30:00Z"},    # 01:30 PDT, first pass
                         {**_customer(2), "dateModified": "2026-11-01T07:50:00Z"}])   # before the asked instant
    changed = list(la.list_customers(changed_since=datetime(2026, 11, 1, 8, 20, tzinfo=UTC)))
    assert "Customer 001" in [c["name"] for c in changed]


@pytest.mark.parametrize("value", [None, "", "  ", "Mars/Olympus", "UTC+2"], ids=["none", "empty", "blank", "unknown", "offset"])
def test_a_missing_or_unknown_time_zone_is_a_configuration_error(value: str | None) -> None:
    with pytest.raises(ConfigurationError, match="timezone of connection synchroteam_x"):
        account_zone(value, "connection synchroteam_x")
    with pytest.raises(ConfigurationError):
        SynchroteamClient("http://127.0.0.1:9", DOMAIN, API_KEY, timezone=value)


def test_hook_from_airflow_connection(st_conn: Any) -> None:
    from stqbo_hooks.synchroteam import SynchroteamHook

    _seed(st_conn, customers=[_customer(1)])
    hook = SynchroteamHook()
    assert hook.test_connection()[0] is True
    assert hook.get_conn().domain == DOMAIN
    assert [c["name"] for c in hook.get_conn().list_customers()] == ["Customer 001"]
    assert SynchroteamHook.get_ui_field_behaviour()["relabeling"]["password"] == "API key"


def _st_conn_env(monkeypatch: pytest.MonkeyPatch, conn_id: str, host: str, **fields: Any) -> None:
    import json

    conn = {"conn_type": "synchroteam", "host": host, "login": DOMAIN, "password": API_KEY,
            "extra": {"timezone": ST_TIMEZONE}, **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_hook_test_button_succeeds_with_one_read(st_conn: Any) -> None:
    from stqbo_hooks.synchroteam import SynchroteamHook

    _seed(st_conn, customers=[_customer(1), _customer(2)])
    st_conn.admin("DELETE", "/_sim/requests")
    ok, message = SynchroteamHook().test_connection()
    assert ok and message == f"Connected to Synchroteam account '{DOMAIN}' (time zone {ST_TIMEZONE})."
    assert [r["path"] for r in _api_calls(st_conn, "/customer/list")] == ["/api/v3/customer/list"]


def test_hook_test_button_says_in_plain_words_that_the_api_key_is_wrong(
    st: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stqbo_hooks.synchroteam import SynchroteamHook

    _st_conn_env(monkeypatch, "synchroteam_wrong_key", st.url, password="wrong-key-8731")
    ok, message = SynchroteamHook("synchroteam_wrong_key").test_connection()
    assert not ok
    assert message == ("Synchroteam refused the account domain or the API key: check Account domain (the "
                       "'mycompany' of mycompany.synchroteam.com) and API key (Synchroteam: your account's API "
                       "settings).")
    assert "wrong-key-8731" not in message


def test_hook_test_button_names_the_host_it_cannot_reach_without_long_retries(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from devenv.sims import free_port
    from stqbo_hooks.synchroteam import SynchroteamHook

    url = f"http://127.0.0.1:{free_port()}"
    _st_conn_env(monkeypatch, "synchroteam_nowhere", url)
    started = time.monotonic()
    ok, message = SynchroteamHook("synchroteam_nowhere").test_connection()
    assert not ok and message.startswith(f"Could not reach Synchroteam at {url} ") and "API base URL" in message
    assert time.monotonic() - started < 5


def test_hook_test_button_names_a_missing_time_zone(st: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from stqbo_hooks.synchroteam import SynchroteamHook

    _st_conn_env(monkeypatch, "synchroteam_no_zone", st.url, extra={})
    ok, message = SynchroteamHook("synchroteam_no_zone").test_connection()
    assert not ok and "timezone" in message and API_KEY not in message
