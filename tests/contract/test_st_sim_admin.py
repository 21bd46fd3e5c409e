"""Synchroteam simulator: the `/_sim/` admin API (reset, seed, state, UI edits, request log, faults, clock)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from simulators.synchroteam.testing import StClient, since


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


def new_customer(client: StClient, **fields: Any) -> dict[str, Any]:
    return dict(client.ok("POST", "customer/send", json={"name": "C", "address": "1 Road", **fields}))


def test_health_needs_no_auth(st: Any) -> None:
    resp = requests.get(st.url + "/_sim/health", timeout=5)
    assert resp.status_code == 200 and resp.json() == {"ok": True}


def test_reset_drops_data_faults_log_and_clock(st: Any, client: StClient) -> None:
    new_customer(client)
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "invoice", "action": "error"}]})
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 3600})
    st.reset()
    assert st.admin("GET", "/_sim/state").json() == {"customers": [], "parts": [], "invoices": []}
    assert st.admin("GET", "/_sim/faults").json() == {"faults": []}
    assert st.requests_log() == []
    assert st.admin("GET", "/_sim/clock").json()["offset_seconds"] == 0
    assert client.get("invoice/list").status_code == 200


def test_seed_answers_stored_objects_and_state_lists_everything(st: Any) -> None:
    seeded = st.admin("POST", "/_sim/seed", json={
        "customers": [{"name": "Given Id", "address": "x", "id": 5409780, "dateCreated": "2021-10-21 16:43",
                       "dateModified": "2022-04-13 20:13"},
                      {"name": "Inactive", "address": "y", "active": False}],
        "parts": [{"reference": "P1", "name": "Part one", "price": "12.50"}],
    }).json()
    given, inactive = seeded["customers"]
    assert given["id"] == 5409780 and given["dateCreated"] == "2021-10-21 16:43"
    assert given["dateModified"] == "2022-04-13 20:13"
    assert inactive["id"] == 5409781 and inactive["active"] is False
    assert seeded["parts"][0]["price"] == "12.50" and isinstance(seeded["parts"][0]["id"], int)
    state = st.admin("GET", "/_sim/state").json()
    assert state["customers"] == seeded["customers"] and state["parts"] == seeded["parts"]
    assert st.admin("POST", "/_sim/seed", json={"customers": [{"name": "Dup", "address": "x", "id": 5409780}]}
                    ).status_code == 400
    assert st.admin("POST", "/_sim/seed", json={"customers": [{"address": "no name"}]}).status_code == 400
    counts = st.admin("POST", "/_sim/seed?echo=false", json={"customers": [{"name": "Q", "address": "q"}]}).json()
    assert counts == {"customers": 1}
    assert st.admin("GET", "/_sim/state?domain=nosuch").status_code == 404


def test_ui_edit_bumps_date_modified_even_without_change(st: Any, client: StClient) -> None:
    c = new_customer(client, contactPhone="555-0100")
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 600})
    cut = since(client.local_now())
    edited = st.admin("PATCH", f"/_sim/customers/{c['id']}", json={"contactPhone": "555-0100"}).json()
    assert edited["dateModified"] > c["dateModified"] and edited["contactPhone"] == "555-0100"
    changed = client.ok("GET", "customer/list", params={"changedSince": cut})["data"]
    assert [x["id"] for x in changed] == [c["id"]]
    renamed = st.admin("PATCH", f"/_sim/Customer/{c['id']}", json={"name": "Renamed", "active": False}).json()
    assert renamed["name"] == "Renamed" and renamed["active"] is False
    assert st.admin("PATCH", "/_sim/customers/424242", json={"name": "x"}).status_code == 404
    assert st.admin("PATCH", "/_sim/widgets/1", json={}).status_code == 404


def test_ui_delete_removes_customer_from_everything(st: Any, client: StClient) -> None:
    keep, gone = new_customer(client, name="Keep"), new_customer(client, name="Gone", myId="G-1")
    assert st.admin("DELETE", f"/_sim/customers/{gone['id']}").status_code == 200
    assert client.get("customer/details", id=gone["id"]).status_code == 404
    assert client.get("customer/details", myId="G-1").status_code == 404
    listed = client.ok("GET", "customer/list", params={"changedSince": "2000-01-01 00:00:00"})["data"]
    assert [x["id"] for x in listed] == [keep["id"]]
    assert [x["id"] for x in st.admin("GET", "/_sim/state").json()["customers"]] == [keep["id"]]
    assert st.admin("DELETE", f"/_sim/customers/{gone['id']}").status_code == 404


def test_ui_edit_and_delete_parts_by_reference(st: Any, client: StClient) -> None:
    part = client.ok("POST", "part/send", json={"reference": "P-1", "name": "One", "price": 1})
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 120})
    edited = st.admin("PATCH", "/_sim/parts/P-1", json={"price": 2}).json()
    assert edited["price"] == "2.00" and edited["id"] == part["id"]
    assert edited["dateModified"] > part["dateModified"]
    assert st.admin("DELETE", f"/_sim/parts/{part['id']}").status_code == 200
    assert client.get("part/details", reference="P-1").status_code == 404


def test_request_log_records_api_calls_only(st: Any, client: StClient) -> None:
    client.get("customer/list", changedSince="2024-05-01 00:00:00", pageSize=10)
    StClient(st.url, "demo", "bad").get("customer/list")
    client.session.get(st.url + "/Api/v3/Customer/Details?id=7", timeout=5)
    st.admin("GET", "/_sim/state")
    log = st.requests_log()
    assert [(e["method"], e["path"], e["status"], e["domain"]) for e in log] == [
        ("GET", "/api/v3/customer/list", 200, "demo"),
        ("GET", "/api/v3/customer/list", 401, None),
        ("GET", "/api/v3/customer/details", 404, "demo"),
    ]
    assert set(log[0]) == {"method", "path", "query", "status", "time", "domain"}
    assert log[0]["query"] == {"changedSince": "2024-05-01 00:00:00", "pageSize": "10"}
    assert log[0]["time"].endswith("Z") and "T" in log[0]["time"]
    assert st.admin("DELETE", "/_sim/requests").status_code == 200
    assert st.requests_log() == []


def test_fault_error_counts_down_and_clears(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [
        {"path": "customer/list", "action": "error", "status": 503, "times": 2, "retry_after": 7}]})
    for _ in range(2):
        resp = client.get("customer/list")
        assert resp.status_code == 503 and resp.json() == {"code": 503, "message": "Injected error 503."}
        assert resp.headers["Retry-After"] == "7"
    assert client.get("customer/list").status_code == 200
    assert st.admin("GET", "/_sim/faults").json() == {"faults": []}
    assert [(e["status"], e["domain"]) for e in st.requests_log()] == [(503, "demo"), (503, "demo"), (200, "demo")]


def test_fault_method_filter_probability_and_unlimited(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [
        {"path": "customer", "method": "POST", "action": "error", "status": 500, "times": 0},
        {"path": "part/list", "action": "error", "probability": 0.0},
    ]})
    assert client.get("customer/list").status_code == 200
    for _ in range(3):
        assert client.post("customer/send", {"name": "x", "address": "y"}).status_code == 500
    assert st.admin("GET", "/_sim/state").json()["customers"] == []
    assert client.get("part/list").status_code == 200
    assert len(st.admin("GET", "/_sim/faults").json()["faults"]) == 2
    st.admin("DELETE", "/_sim/faults")
    assert client.post("customer/send", {"name": "x", "address": "y"}).status_code == 200


def test_fault_throttle_is_429_with_retry_after(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "invoice/list", "action": "throttle",
                                                       "retry_after": 3}]})
    resp = client.get("invoice/list")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3" and resp.json()["code"] == 429
    assert client.get("invoice/list").status_code == 200


def test_fault_timeout_sleeps_then_504(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "customer/details", "action": "timeout",
                                                       "delay": 0.3}]})
    started = time.monotonic()
    resp = client.get("customer/details", id=1)
    assert resp.status_code == 504 and resp.json()["code"] == 504
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        st.admin("POST", "/_sim/faults", json={"faults": [{"path": "customer/details", "action": "timeout",
                                                           "delay": 1.0}]})
        client.call("GET", "customer/details", params={"id": 1}, timeout=0.2)


def test_drop_after_commit_applies_the_write_and_sends_nothing(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/faults", json={"faults": [{"path": "customer/send", "method": "POST",
                                                       "action": "drop_after_commit"}]})
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        client.post("customer/send", {"name": "Committed", "address": "1 Road", "myId": "M-1"})
    stored = st.admin("GET", "/_sim/state").json()["customers"]
    assert [c["name"] for c in stored] == ["Committed"]
    retry = client.ok("POST", "customer/send", json={"name": "Committed", "address": "1 Road", "myId": "M-1"})
    assert retry["id"] == stored[0]["id"], "a retried create with the same myId updates, not duplicates"
    assert len(st.admin("GET", "/_sim/state").json()["customers"]) == 1
    assert [e["status"] for e in st.requests_log()] == [200, 200]


@pytest.mark.parametrize("rule", [{"path": "(", "action": "error"}, {"path": "x", "action": "explode"},
                                  {"path": "x", "times": "often"}])
def test_bad_fault_rules_are_400(st: Any, rule: dict[str, Any]) -> None:
    assert st.admin("POST", "/_sim/faults", json={"faults": [rule]}).status_code == 400


def test_clock_moves_timestamps(st: Any, client: StClient) -> None:
    before = st.admin("GET", "/_sim/clock").json()
    assert before["offset_seconds"] == 0 and before["now"].endswith("Z")
    moved = st.admin("POST", "/_sim/clock", json={"advance_seconds": 86400 * 30}).json()
    assert moved["offset_seconds"] == 86400 * 30 and moved["now"][:10] > before["now"][:10]
    c = new_customer(client)
    assert c["dateCreated"][:10] == since(client.local_now())[:10]
    assert st.admin("POST", "/_sim/clock", json={"advance_seconds": "soon"}).status_code == 400
