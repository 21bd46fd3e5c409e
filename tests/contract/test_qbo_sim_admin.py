"""QuickBooks simulator: the /_sim admin API, rate limits, injected faults, and the demo company."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from test_qbo_sim_support import QboApi, advance, assert_fault, connect, line, make_customer, make_item

from devenv import sims


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)


def assert_throttled(resp: requests.Response) -> None:
    assert resp.status_code == 429, resp.text
    error = resp.json()["fault"]["error"][0]
    assert error["code"] == "3001"
    assert error["message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert error["detail"] == "The request limit was reached.  Try again later"
    assert resp.json()["fault"]["type"] == "SERVICE"


def test_health_needs_no_auth(qbo: Any) -> None:
    resp = qbo.admin("GET", "/_sim/health")
    assert resp.status_code == 200 and resp.json() == {"ok": True}


def test_reset_gives_a_new_company(qbo: Any, qapi: QboApi) -> None:
    make_customer(qapi, "Temporary")
    qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 7})
    try:
        advance(qbo, 500)
        qbo.reset()
        state = qbo.admin("GET", "/_sim/state").json()
        assert state["Customer"] == [] and state["Invoice"] == [] and state["realm_id"] == "9341453050170123"
        assert {c["Id"] for c in state["TaxCode"]} == {"TAX", "NON", "2"}
        assert any(a["AccountType"] == "Income" for a in state["Account"])
        assert state["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is False
        assert qbo.admin("GET", "/_sim/clock").json()["offset_seconds"] == 0
        assert qbo.admin("GET", "/_sim/limits").json()["requests_per_minute"] == 7  # limits survive a reset
        assert qbo.requests_log() == []
    finally:
        qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 500})


def test_seed_assigns_ids_and_keeps_given_ones(qbo: Any, qapi: QboApi) -> None:
    stored = qapi.seed({"Item": [{"Name": "Hours", "Type": "Service", "IncomeAccountRef": {"value": "1"}}],
                        "Customer": [{"DisplayName": "Seeded A"}, {"Id": "58", "DisplayName": "Seeded B",
                                                                   "MetaData": {"CreateTime": "2026-01-02T03:04:05-08:00"}}],
                        "Vendor": [{"DisplayName": "Seeded Vendor"}], "Employee": [{"GivenName": "Eve", "FamilyName": "Ee"}]})
    assert [c["Id"] for c in stored["Customer"]] == ["1", "58"]
    assert stored["Customer"][1]["MetaData"]["CreateTime"] == "2026-01-02T03:04:05-08:00"
    assert stored["Customer"][0]["FullyQualifiedName"] == "Seeded A" and stored["Customer"][0]["SyncToken"] == "0"
    assert make_customer(qapi, "After Seed")["Id"] == "59"
    invoice = qapi.seed({"Invoice": [{"CustomerRef": {"value": "58"}, "Line": [line(stored["Item"][0]["Id"], 2, 10)]}]})
    assert invoice["Invoice"][0]["TotalAmt"] == 20.0
    error = qbo.admin("POST", "/_sim/seed", json={"Customer": [{"DisplayName": "Seeded A"}]})
    assert error.status_code == 400 and error.json()["Fault"]["Error"][0]["code"] == "6240"
    state = qbo.admin("GET", "/_sim/state").json()
    assert {k for k in ("Customer", "Vendor", "Employee", "Item", "Invoice", "TaxCode") if state[k]} == {
        "Customer", "Vendor", "Employee", "Item", "Invoice", "TaxCode"}


def test_ui_edit_bumps_sync_token_and_time(qbo: Any, qapi: QboApi) -> None:
    customer = make_customer(qapi, "Kookies by Kathy", BillAddr={"Line1": "789 Sugar Lane", "City": "Middlefield"})
    advance(qbo, 90)
    resp = qbo.admin("PATCH", f"/_sim/customers/{customer['Id']}", json={"BillAddr": {"City": "Bayshore"},
                                                                         "Notes": "edited in the UI"})
    assert resp.status_code == 200, resp.text
    edited = qapi.get(f"/customer/{customer['Id']}").json()["Customer"]
    assert edited["SyncToken"] == "1" and edited["Notes"] == "edited in the UI"
    assert edited["BillAddr"]["Line1"] == "789 Sugar Lane" and edited["BillAddr"]["City"] == "Bayshore"
    assert edited["MetaData"]["LastUpdatedTime"] > customer["MetaData"]["LastUpdatedTime"]
    assert_fault(qapi.post("/customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"}), "5010")
    clash = qbo.admin("PATCH", f"/_sim/Customer/{customer['Id']}", json={"DisplayName": "Kookies:Bad"})
    assert clash.status_code == 400 and clash.json()["Fault"]["Error"][0]["code"] == "2050"
    assert qbo.admin("PATCH", "/_sim/Customer/999", json={"Notes": "x"}).status_code == 404


def test_ui_delete_makes_customers_inactive_and_deletes_invoices(qbo: Any, qapi: QboApi) -> None:
    customer = make_customer(qapi, "Paulsen Medical Supplies")
    item = make_item(qapi)
    invoice = qapi.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item, 1, 10)]})
    assert qbo.admin("DELETE", f"/_sim/invoices/{invoice['Id']}").status_code == 200
    assert_fault(qapi.get(f"/invoice/{invoice['Id']}"), "610")
    assert qbo.admin("DELETE", f"/_sim/customers/{customer['Id']}").status_code == 200
    gone = qapi.get(f"/customer/{customer['Id']}").json()["Customer"]
    assert gone["Active"] is False and gone["DisplayName"] == "Paulsen Medical Supplies (deleted)"
    assert gone["SyncToken"] == "1"


def test_request_log(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("DELETE", "/_sim/requests")
    qapi.post("/customer", {"DisplayName": "Logged"}, requestid="log-1")
    qapi.query("select * from Customer")
    log = qbo.requests_log()
    assert [(r["method"], r["status"]) for r in log] == [("POST", 200), ("GET", 200)]
    first = log[0]
    assert set(first) == {"method", "path", "query", "status", "time", "realm", "request_id"}
    assert first["path"] == f"/v3/company/{qapi.realm_id}/customer" and first["query"] == "requestid=log-1"
    assert first["realm"] == qapi.realm_id and first["request_id"] == "log-1"
    assert first["time"].endswith("Z")
    assert all(not r["path"].startswith("/_sim") for r in log)


def test_fault_error_status_and_times(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"method": "POST", "path": "/customer$", "action": "error",
                                                        "status": 503, "times": 2}]})
    for _ in range(2):
        resp = qapi.post("/customer", {"DisplayName": "Unlucky"})
        assert resp.status_code == 503 and resp.json()["Fault"]["type"] == "SystemFault"
    assert qapi.post("/customer", {"DisplayName": "Unlucky"}).status_code == 200
    assert qapi.query("select count(*) from Customer").json()["QueryResponse"]["totalCount"] == 1


def test_fault_429_with_retry_after_and_throttle(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"path": "/query", "action": "error", "status": 429, "retry_after": 7},
        {"path": "/query", "action": "throttle"}]})
    first = qapi.query("select * from Customer")
    assert_throttled(first)
    assert first.headers["Retry-After"] == "7"
    second = qapi.query("select * from Customer")
    assert_throttled(second)
    assert "Retry-After" not in second.headers
    assert qapi.query("select * from Customer").status_code == 200


def test_fault_probability_zero_never_fires_and_clear(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"path": "/query", "status": 500, "probability": 0.0,
                                                        "times": 0}]})
    assert qapi.query("select * from Customer").status_code == 200
    assert qbo.admin("DELETE", "/_sim/faults").status_code == 200
    assert qbo.admin("GET", "/_sim/faults").json()["faults"] == []
    bad = qbo.admin("POST", "/_sim/faults", json={"faults": [{"path": "x", "action": "explode"}]})
    assert bad.status_code == 400


def test_timeout_fault_holds_the_request(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"path": "/preferences", "action": "timeout", "delay": 1}]})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(qapi.base + "/preferences", headers=qapi.headers(), timeout=0.3)
    assert qapi.get("/preferences").status_code == 200
    deadline = time.monotonic() + 5
    while not any(r["status"] == 504 for r in qbo.requests_log()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the abandoned request still holds a concurrency slot until it answers 504
    assert [r["status"] for r in qbo.requests_log() if r["path"].endswith("/preferences")] == [200, 504]


def test_drop_after_commit_writes_then_hangs_up(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"method": "POST", "path": "/customer$",
                                                        "action": "drop_after_commit"}]})
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        qapi.post("/customer", {"DisplayName": "Committed"}, requestid="drop-1")
    rows = qapi.rows("select * from Customer where DisplayName = 'Committed'", "Customer")
    assert len(rows) == 1
    retry = qapi.post("/customer", {"DisplayName": "Committed"}, requestid="drop-1")
    assert retry.status_code == 200 and retry.json()["Customer"]["Id"] == rows[0]["Id"]


def test_requests_per_minute_limit(qbo: Any, qapi: QboApi) -> None:
    assert qbo.admin("GET", "/_sim/limits").json() == {"requests_per_second": 10, "requests_per_minute": 500,
                                                      "concurrent": 10, "batch_per_minute": 40}
    qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 3})
    try:
        for _ in range(3):
            assert qapi.get("/preferences").status_code == 200
        assert_throttled(qapi.get("/preferences"))
        advance(qbo, 61)
        assert qapi.get("/preferences").status_code == 200
        advance(qbo, 61)
        batch = [{"bId": f"b{i}", "Query": "select * from Item"} for i in range(4)]
        assert_throttled(qapi.post("/batch", {"BatchItemRequest": batch}))  # each item counts
    finally:
        qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 500})


def test_batch_per_minute_limit(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/limits", json={"batch_per_minute": 1})
    try:
        body = {"BatchItemRequest": [{"bId": "q", "Query": "select * from Item"}]}
        assert qapi.post("/batch", body).status_code == 200
        assert_throttled(qapi.post("/batch", body))
        assert qapi.get("/preferences").status_code == 200
        advance(qbo, 61)
        assert qapi.post("/batch", body).status_code == 200
    finally:
        qbo.admin("POST", "/_sim/limits", json={"batch_per_minute": 40})


def test_concurrency_limit(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/limits", json={"concurrent": 1})
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"path": "/companyinfo", "action": "timeout", "delay": 2}]})
    slow: dict[str, int] = {}
    worker = threading.Thread(target=lambda: slow.update(code=qapi.get(f"/companyinfo/{qapi.realm_id}").status_code))
    try:
        worker.start()
        deadline = time.monotonic() + 5
        while qbo.admin("GET", "/_sim/faults").json()["faults"] and time.monotonic() < deadline:
            time.sleep(0.01)  # the rule is used up once the slow request holds its slot
        assert_throttled(qapi.get("/preferences"))
        worker.join()
        assert slow["code"] == 504
        assert qapi.get("/preferences").status_code == 200
    finally:
        qbo.admin("POST", "/_sim/limits", json={"concurrent": 10})


def test_clock(qbo: Any) -> None:
    before = qbo.admin("GET", "/_sim/clock").json()
    moved = qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 3600}).json()
    assert moved["offset_seconds"] == before["offset_seconds"] + 3600
    assert moved["now"] > before["now"]
    assert qbo.admin("POST", "/_sim/clock", json={"advance_seconds": "soon"}).status_code == 400


def test_clock_moves_metadata_and_txn_dates(qbo: Any) -> None:
    advance(qbo, 40 * 86400)
    fresh = connect(qbo)  # the old access token expired on the way
    now = datetime.fromisoformat(qbo.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))
    customer = make_customer(fresh, "Future Customer")
    created = datetime.fromisoformat(customer["MetaData"]["CreateTime"])
    assert abs((created - now).total_seconds()) < 5
    item = make_item(fresh)
    invoice = fresh.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item, 1, 5)]})
    assert invoice["TxnDate"] == created.date().isoformat()


def test_preferences_admin(qbo: Any, qapi: QboApi) -> None:
    prefs = qbo.admin("GET", "/_sim/preferences").json()
    assert prefs["simulator"] == {"country": "US"} and prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    changed = qbo.admin("PATCH", "/_sim/preferences", json={"SalesFormsPrefs": {"CustomTxnNumbers": True}}).json()
    assert changed["SalesFormsPrefs"]["CustomTxnNumbers"] is True and changed["SalesFormsPrefs"]["AllowDeposit"] is False
    assert qapi.get("/preferences").json()["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert int(changed["SyncToken"]) == int(prefs["SyncToken"]) + 1


@pytest.fixture(scope="module")
def demo_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sims.SimProcess, Path]]:
    log_path = tmp_path_factory.mktemp("qbo-demo") / "qbo.log"
    sim = sims.start("quickbooks", seed="demo", log_path=log_path)
    yield sim, log_path
    sim.stop()


def test_demo_company(demo_sim: tuple[sims.SimProcess, Path]) -> None:
    sim, demo_log = demo_sim
    api = connect(sim)
    customers = {c["DisplayName"]: c for c in api.rows(
        "select * from Customer where Active in (true, false) maxresults 1000", "Customer")}
    assert 28 <= len(customers) <= 40
    for name in ("Amy's Bird Sanctuary", "Cool Cars", "Freeman Sporting Goods", "Geeta Kalapatapu",
                 "Jeff's Jalopies", "Rondonuwu Fruit and Vegi", "Sushi by Katsuyuki"):
        assert customers[name]["Active"] is True
        assert customers[name]["PrimaryEmailAddr"]["Address"] and customers[name]["BillAddr"]["City"]
    assert customers["Weiskopf Consulting (deleted)"]["Active"] is False
    vendors = api.rows("select * from Vendor where DisplayName = 'Books by Bessie'", "Vendor")
    assert len(vendors) == 1
    assert_fault(api.post("/customer", {"DisplayName": "Books by Bessie"}), "6240")
    items = {i["Name"]: i["Type"] for i in api.rows("select * from Item", "Item")}
    assert items["Hours"] == "Service" and items["Rocks"] == "NonInventory"
    assert {"Installation", "Gardening", "Pest Control"} <= set(items)
    assert api.query("select count(*) from Invoice").json()["QueryResponse"]["totalCount"] >= 3
    printed = demo_log.read_text()
    assert "realm_id=9341453050170123" in printed and "refresh_token=RT1-" in printed


def test_ui_merge_moves_invoices_and_removes_the_source(qbo: Any, qapi: QboApi) -> None:
    survivor = make_customer(qapi, "Sonnenschein Family Store")
    source = make_customer(qapi, "Sonnenschein Family Store 2")
    item = make_item(qapi)
    invoice = qapi.create("Invoice", {"CustomerRef": {"value": source["Id"]}, "Line": [line(item, 1, 40)]})
    since = invoice["MetaData"]["LastUpdatedTime"]
    resp = qbo.admin("POST", "/_sim/merge", json={"collection": "Customer", "from": source["Id"], "into": survivor["Id"]})
    assert resp.status_code == 200, resp.text
    assert_fault(qapi.get(f"/customer/{source['Id']}"), "610")
    moved = qapi.get(f"/invoice/{invoice['Id']}").json()["Invoice"]
    assert moved["CustomerRef"] == {"value": survivor["Id"], "name": "Sonnenschein Family Store"}
    assert moved["SyncToken"] == "1"
    assert qapi.get(f"/customer/{survivor['Id']}").json()["Customer"]["Balance"] == 40.0
    changes = qapi.get("/cdc", entities="Customer", changedSince=since).json()["CDCResponse"][0]["QueryResponse"]
    tombs = [c for group in changes for c in group.get("Customer", []) if c.get("status") == "Deleted"]
    assert [t["Id"] for t in tombs] == [source["Id"]]
    assert qbo.admin("POST", "/_sim/merge", json={"from": source["Id"], "into": survivor["Id"]}).status_code == 400
