"""Synchroteam simulator: the paging envelope on every list call (GET and POST) and the date formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simulators.synchroteam.testing import StClient

LISTS = ["customer/list", "invoice/list", "part/list"]
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


@pytest.fixture()
def thirty(st: Any) -> None:
    """30 customers, 30 invoices (on the first customer), 30 parts."""
    customers = [{"name": f"Customer {i:02d}", "address": f"{i} Road"} for i in range(30)]
    seeded = st.admin("POST", "/_sim/seed", json={
        "customers": customers,
        "parts": [{"reference": f"P-{i:02d}", "name": f"Part {i}", "price": i} for i in range(30)],
    }).json()
    first = seeded["customers"][0]["id"]
    invoices = [{"customer": {"id": first}, "status": "new", "lines": [{"description": f"line {i}"}]}
                for i in range(30)]
    st.admin("POST", "/_sim/seed", json={"invoices": invoices}).raise_for_status()


@pytest.mark.parametrize("path", LISTS)
def test_default_page_size_is_25_and_past_the_end_is_empty(thirty: None, client: StClient, path: str) -> None:
    first = client.ok("GET", path)
    assert list(first) == ["page", "pageSize", "records", "recordsTotal", "data"]
    assert (first["page"], first["pageSize"], first["recordsTotal"], len(first["data"])) == (1, 25, 30, 25)
    assert first["records"] == 25
    second = client.ok("GET", path, params={"page": 2})
    assert (second["page"], second["pageSize"], second["recordsTotal"], len(second["data"])) == (2, 25, 30, 5)
    assert second["records"] == 5
    third = client.ok("GET", path, params={"page": 3})
    assert third == {"page": 3, "pageSize": 25, "records": 0, "recordsTotal": 30, "data": []}
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert len(set(ids)) == 30


@pytest.mark.parametrize("path", LISTS)
def test_post_list_takes_filters_from_body_or_query(thirty: None, client: StClient, path: str) -> None:
    by_body = client.ok("POST", path, json={"page": 2, "pageSize": 10})
    by_query = client.ok("POST", path, params={"page": 2, "pageSize": 10})
    by_get = client.ok("GET", path, params={"page": 2, "pageSize": 10})
    assert by_body == by_query == by_get
    assert (by_body["page"], by_body["pageSize"], len(by_body["data"])) == (2, 10, 10)
    body_wins = client.ok("POST", path, params={"page": 1}, json={"page": 3, "pageSize": 10})
    assert body_wins["data"] == client.ok("GET", path, params={"page": 3, "pageSize": 10})["data"]
    empty_post = client.call("POST", path)
    assert empty_post.status_code == 200 and empty_post.json()["pageSize"] == 25


def test_post_list_body_takes_typed_json_values(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/seed", json={"customers": [{"name": "In", "address": "x", "active": False}]})
    assert client.ok("POST", "customer/list", json={"active": False})["recordsTotal"] == 1
    assert client.ok("POST", "customer/list", json={"active": True})["recordsTotal"] == 0


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "params",
    [{"pageSize": 101}, {"pageSize": 0}, {"page": 0}, {"page": -1}, {"page": "x"}, {"pageSize": "ten"},
     {"page": "1_0"}, {"pageSize": "2.0"}],
    ids=["size-101", "size-0", "page-0", "page-neg", "page-text", "size-text", "page-underscore", "size-float"],
)
def test_bad_paging_is_400(client: StClient, path: str, params: dict[str, Any]) -> None:
    resp = client.get(path, **params)
    assert resp.status_code == 400
    assert resp.json()["code"] == 400 and resp.json()["message"]


def test_page_size_100_is_the_maximum(thirty: None, client: StClient) -> None:
    body = client.ok("GET", "customer/list", params={"pageSize": 100})
    assert body["pageSize"] == 100 and len(body["data"]) == 30


def test_customer_order_is_stable_by_id(thirty: None, client: StClient) -> None:
    everything = client.list_all("customer", page_size=7)
    ids = [c["id"] for c in everything]
    assert ids == sorted(ids) and len(ids) == 30


# ----------------------------------------------------------------------------------------------- dates


def sim_now(st: Any) -> datetime:
    return datetime.fromisoformat(st.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))


def test_response_dates_are_local_minutes(st: Any, client: StClient) -> None:
    """The default account is in America/New_York: a record made now shows New York's wall clock."""
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 7 * 3600 + 13}).raise_for_status()
    now = sim_now(st)
    created = client.ok("POST", "customer/send", json={"name": "Clocked", "address": "1 Road"})
    assert MINUTE.match(created["dateCreated"]) and MINUTE.match(created["dateModified"])
    wall = datetime.strptime(created["dateCreated"], "%Y-%m-%d %H:%M")
    stamps = {wall.replace(tzinfo=NEW_YORK, fold=fold).astimezone(UTC) for fold in (0, 1)}  # 2 in a repeated hour
    assert any(timedelta(0) <= now.replace(second=0, microsecond=0) - s <= timedelta(minutes=1) for s in stamps)
    part = client.ok("POST", "part/send", json={"reference": "R1", "name": "R", "price": 1})
    assert MINUTE.match(part["dateCreated"]) and MINUTE.match(part["dateModified"])


def test_changed_since_compares_full_precision(st: Any, client: StClient) -> None:
    """Re-reading with changedSince = the minute shown still finds the record; the next minute does not."""
    created = client.ok("POST", "customer/send", json={"name": "Precise", "address": "1 Road"})
    shown = datetime.strptime(created["dateModified"], "%Y-%m-%d %H:%M")
    same_minute = shown.strftime("%Y-%m-%d %H:%M:%S")
    next_minute = (shown + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    hits = client.ok("GET", "customer/list", params={"changedSince": same_minute})["data"]
    assert [c["id"] for c in hits] == [created["id"]]
    assert client.ok("GET", "customer/list", params={"changedSince": next_minute})["data"] == []


def test_bare_date_means_midnight(st: Any, client: StClient) -> None:
    client.ok("POST", "customer/send", json={"name": "Today", "address": "1 Road"})
    today = client.local_now().strftime("%Y-%m-%d")
    tomorrow = (client.local_now() + timedelta(days=1)).strftime("%Y-%m-%d")
    assert client.ok("GET", "customer/list", params={"changedSince": today})["recordsTotal"] == 1
    assert client.ok("GET", "customer/list", params={"changedSince": tomorrow})["recordsTotal"] == 0


@pytest.mark.parametrize(
    "value",
    ["2024-05-02T09:15:00", "2024-05-02 09:15", "2024-05-02 09:15:00Z", "02/05/2024", "2024-13-01 00:00:00",
     "2024-02-30 00:00:00", "yesterday", "2024-05-02 25:00:00", "2024-05-02+09:15:00"],
)
@pytest.mark.parametrize(
    ("path", "name"),
    [("customer/list", "changedSince"), ("part/list", "changedSince"), ("invoice/list", "changedSince"),
     ("invoice/list", "createdSince"), ("invoice/list", "paidSince")],
)
def test_malformed_dates_are_400(client: StClient, path: str, name: str, value: str) -> None:
    resp = client.call("GET", path, params={name: value})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == 400 and name in body["message"] and "yyyy-MM-dd HH:mm:ss" in body["message"]


def test_url_encoded_space_forms_are_accepted(st: Any, client: StClient) -> None:
    client.ok("POST", "customer/send", json={"name": "Spaced", "address": "1 Road"})
    for raw in ("changedSince=2000-01-01%2000:00:00", "changedSince=2000-01-01+00:00:00"):
        resp = client.session.get(f"{st.url}/api/v3/customer/list?{raw}", timeout=10)
        assert resp.status_code == 200 and resp.json()["recordsTotal"] == 1
