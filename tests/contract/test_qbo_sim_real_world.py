"""QuickBooks simulator: what the real service does (issue 12, rows Q1-Q8 of the real-world facts), by default.

Each test names its row. The lenient switches (`/_sim/lenient`) are checked too, since tests of the connector
use them while it catches up, but every other assertion here is about the default behaviour.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from test_qbo_sim_support import (
    CLIENT,
    QboApi,
    advance,
    assert_fault,
    connect,
    line,
    make_customer,
    make_item,
    token_request,
)

TAKEN = ("The name supplied already exists. : Another customer, vendor or employee is already using this name. "
         "Please use a different name.")
# singer tap-quickbooks 2.5.0 asks CDC for these 24 entities in one call
TAP_CDC = ("Account,BillPayment,Bill,Budget,Class,CreditMemo,Customer,Department,Deposit,Employee,Estimate,Invoice,"
           "Item,JournalEntry,PaymentMethod,Payment,PurchaseOrder,Purchase,RefundReceipt,SalesReceipt,Term,Transfer,"
           "VendorCredit,Vendor")


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)


def lenient(qbo: Any, **switches: bool) -> dict[str, Any]:
    resp = qbo.admin("POST", "/_sim/lenient", json=switches)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def names(api: QboApi, text: str, entity: str = "Customer", key: str = "DisplayName") -> list[str]:
    return [row[key] for row in api.rows(text, entity)]


def assert_throttled(resp: requests.Response) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.json() == {"fault": {"error": [{
        "message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "detail": "The request limit was reached.  Try again later", "code": "3001"}], "type": "SERVICE"}}
    assert "Retry-After" not in resp.headers


# ---------------------------------------------------------------- Q1: 6240 without Id, QuickBooks' uniqueness rule


@pytest.mark.parametrize("entity,name", [
    ("customer", "ACME CORP"), ("customer", "  acme   corp "), ("vendor", "Acme Corp"), ("employee", "acme\u00a0CORP"),
], ids=["upper", "spaces", "vendor", "nbsp-employee"])
def test_6240_names_no_holder_whatever_the_case_and_spacing(qapi: QboApi, entity: str, name: str) -> None:
    make_customer(qapi, "Acme Corp")
    error = assert_fault(qapi.post(f"/{entity}", {"DisplayName": name}), "6240")
    assert error["Message"] == "Duplicate Name Exists Error" and error["Detail"] == TAKEN


def test_inactive_holders_block_their_stored_name(qapi: QboApi) -> None:
    vendor = qapi.create("Vendor", {"DisplayName": "Sleepy Supplies"})
    sleeping = qapi.create("Vendor", {"Id": vendor["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert sleeping["DisplayName"] == "Sleepy Supplies (deleted)"
    error = assert_fault(qapi.post("/customer", {"DisplayName": "SLEEPY supplies  (deleted)"}), "6240")
    assert error["Detail"] == TAKEN
    assert make_customer(qapi, "Sleepy Supplies")["Active"] is True  # the suffix freed the plain name


def test_rename_into_a_taken_name_is_6240_without_id(qapi: QboApi) -> None:
    make_customer(qapi, "Cool Cars")
    other = make_customer(qapi, "Hot Cars")
    error = assert_fault(qapi.post("/customer", {"Id": other["Id"], "SyncToken": "0", "sparse": True,
                                                 "DisplayName": "cool  cars"}), "6240")
    assert error["Detail"] == TAKEN


def test_equals_in_a_query_stays_exact(qapi: QboApi) -> None:
    make_customer(qapi, "ACME CORP")
    assert names(qapi, "select * from Customer where DisplayName = 'Acme Corp'") == []
    assert names(qapi, "select * from Customer where DisplayName = 'ACME  CORP'") == []
    assert names(qapi, "select * from Customer where DisplayName = 'ACME CORP'") == ["ACME CORP"]
    assert names(qapi, "select * from Customer where DisplayName LIKE '%Corp'") == []


def test_lenient_6240_names_the_holder(qbo: Any, qapi: QboApi) -> None:
    holder = make_customer(qapi, "Acme Corp")
    lenient(qbo, duplicate_name_with_id=True)
    error = assert_fault(qapi.post("/customer", {"DisplayName": "acme corp"}), "6240")
    assert error["Detail"] == f"The name supplied already exists. : Id={holder['Id']}"


# ---------------------------------------------------------------- Q2: by name without ORDERBY


def test_queries_without_orderby_come_by_name(qapi: QboApi) -> None:
    for name in ("zeta Works", "Alpha Co", "beta Shop", "Gamma Ltd"):
        make_customer(qapi, name)
    assert names(qapi, "select * from Customer") == ["Alpha Co", "beta Shop", "Gamma Ltd", "zeta Works"]
    assert names(qapi, "select * from Customer STARTPOSITION 2 MAXRESULTS 2") == ["beta Shop", "Gamma Ltd"]
    assert names(qapi, "select * from Customer where Id IN ('4', '1')") == ["Gamma Ltd", "zeta Works"]
    assert names(qapi, "select * from Customer ORDERBY Id") == ["zeta Works", "Alpha Co", "beta Shop", "Gamma Ltd"]
    for name in ("Saw", "anvil"):
        make_item(qapi, name)
    assert names(qapi, "select * from Item", "Item", "Name") == ["anvil", "Saw"]


def test_offset_paging_over_a_changing_set_repeats_a_row(qapi: QboApi) -> None:
    for name in ("Bravo", "Charlie", "Delta"):
        make_customer(qapi, name)
    first = names(qapi, "select * from Customer STARTPOSITION 1 MAXRESULTS 2")
    make_customer(qapi, "Alpha")  # created during the paged read, ahead of the cursor
    second = names(qapi, "select * from Customer STARTPOSITION 3 MAXRESULTS 2")
    assert first == ["Bravo", "Charlie"] and second == ["Charlie", "Delta"]


def test_lenient_order_by_id(qbo: Any, qapi: QboApi) -> None:
    for name in ("zeta Works", "Alpha Co"):
        make_customer(qapi, name)
    assert names(qapi, "select * from Customer") == ["Alpha Co", "zeta Works"]
    lenient(qbo, order_by_id=True)
    assert names(qapi, "select * from Customer") == ["zeta Works", "Alpha Co"]


# ---------------------------------------------------------------- Q3: throttling per realm, no Retry-After


def raw_get(api: QboApi, path: str) -> requests.Response:
    """Unpaced: straight at the throttle."""
    return requests.get(api.base + path, headers=api.headers(), timeout=30)


def test_ten_requests_a_second(qbo: Any, qapi: QboApi) -> None:
    statuses = [raw_get(qapi, "/preferences") for _ in range(20)]
    assert [r.status_code for r in statuses[:10]] == [200] * 10
    refused = [r for r in statuses if r.status_code != 200]
    assert refused, "20 requests in a burst should meet the 10-a-second throttle"
    assert_throttled(refused[0])
    advance(qbo, 1.1)
    assert raw_get(qapi, "/preferences").status_code == 200


def test_per_second_limit_is_per_realm(qbo: Any, qapi: QboApi) -> None:
    other = connect(qbo, realm_id="4620816365000000009")
    for _ in range(10):
        assert raw_get(qapi, "/preferences").status_code == 200
    assert raw_get(other, "/preferences").status_code == 200


def test_per_second_limit_switches(qbo: Any, qapi: QboApi) -> None:
    lenient(qbo, no_per_second_limit=True)
    assert all(raw_get(qapi, "/preferences").status_code == 200 for _ in range(15))
    lenient(qbo, no_per_second_limit=False)
    qbo.admin("POST", "/_sim/limits", json={"requests_per_second": 0})
    try:
        assert all(raw_get(qapi, "/preferences").status_code == 200 for _ in range(15))
    finally:
        qbo.admin("POST", "/_sim/limits", json={"requests_per_second": 10})


def test_forty_batch_calls_a_minute(qbo: Any, qapi: QboApi) -> None:
    body = {"BatchItemRequest": [{"bId": "q", "Query": "select * from Item"}]}
    for _ in range(40):
        assert qapi.post("/batch", body).status_code == 200
        advance(qbo, 0.11)  # keep under 10 a second without sleeping
    assert_throttled(qapi.post("/batch", body))
    advance(qbo, 61)
    assert qapi.post("/batch", body).status_code == 200


def test_ten_concurrent_requests(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"path": "/companyinfo", "action": "timeout", "delay": 1.5, "times": 10}]})
    codes: list[int] = []
    workers = [threading.Thread(target=lambda: codes.append(raw_get(qapi, f"/companyinfo/{qapi.realm_id}").status_code))
               for _ in range(10)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 5
    while qbo.admin("GET", "/_sim/faults").json()["faults"] and time.monotonic() < deadline:
        time.sleep(0.01)  # all ten hold their slot once the rule is used up
    assert_throttled(raw_get(qapi, "/preferences"))
    for worker in workers:
        worker.join()
    assert codes == [504] * 10
    assert raw_get(qapi, "/preferences").status_code == 200


# ---------------------------------------------------------------- Q4: Core and CorePlus metering


def usage_of(qbo: Any) -> dict[str, Any]:
    resp = qbo.admin("GET", "/_sim/usage")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def counters(qbo: Any, client_id: str, realm_id: str) -> tuple[int, int]:
    rows = [r for r in usage_of(qbo)["usage"] if (r["client_id"], r["realm_id"]) == (client_id, realm_id)]
    return (rows[0]["core"], rows[0]["coreplus"]) if rows else (0, 0)


def test_core_and_coreplus_calls_are_counted_per_app_and_realm(qbo: Any, qapi: QboApi) -> None:
    created = make_customer(qapi, "Counted Co")                                          # Core
    qapi.post("/customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})  # Core
    qapi.query("select * from Customer")                                                 # CorePlus
    qapi.get(f"/customer/{created['Id']}")                                               # CorePlus
    qapi.get("/cdc", entities="Customer", changedSince="2026-01-01")                     # CorePlus (a 6000 too)
    qapi.get("/preferences")                                                             # CorePlus
    qapi.post("/batch", {"BatchItemRequest": [                                           # 1 Core + 2 CorePlus
        {"bId": "c", "operation": "create", "Customer": {"DisplayName": "Batched"}},
        {"bId": "q1", "Query": "select * from Item"}, {"bId": "q2", "Query": "select * from Account"}]})
    requests.get(qapi.base + "/preferences", timeout=30)                                 # 401: not counted
    other = connect(qbo, realm_id="4620816365000000010", client=("other-app", "other-secret"))
    other.query("select * from Customer")
    usage = usage_of(qbo)
    assert counters(qbo, CLIENT[0], qapi.realm_id) == (3, 6)
    assert counters(qbo, "other-app", other.realm_id) == (0, 1)
    assert usage["coreplus_this_month"] == {CLIENT[0]: 6, "other-app": 1}
    assert usage["coreplus_monthly_cap"] == 0 and all(r["month"] == usage["month"] for r in usage["usage"])
    assert qbo.admin("DELETE", "/_sim/usage").json()["usage"] == []


def test_monthly_coreplus_cap_refuses_reads_of_every_realm_of_the_app(qbo: Any, qapi: QboApi) -> None:
    second = connect(qbo, realm_id="4620816365000000011")
    other_app = connect(qbo, realm_id="4620816365000000012", client=("other-app", "other-secret"))
    assert qbo.admin("POST", "/_sim/usage", json={"coreplus_monthly_cap": 3}).json()["coreplus_monthly_cap"] == 3
    for api in (qapi, qapi, second):
        assert api.query("select * from Customer").status_code == 200
    for api in (qapi, second):
        blocked = api.query("select * from Customer")
        assert blocked.status_code == 403, blocked.text
        error = blocked.json()["fault"]["error"][0]
        assert error["code"] == "3100" and "CorePlus API call limit reached" in error["detail"]
    assert make_customer(qapi, "Writes Still Work")["Id"]                               # Core is not metered
    assert other_app.query("select * from Customer").status_code == 200                # another app's budget
    assert usage_of(qbo)["coreplus_this_month"][CLIENT[0]] == 3                        # refusals do not count
    advance(qbo, 32 * 86400)
    assert connect(qbo).query("select * from Customer").status_code == 200             # a new month
    assert qbo.admin("POST", "/_sim/usage", json={"coreplus_monthly_cap": -1}).status_code == 400


def test_reset_clears_usage_and_cap(qbo: Any, qapi: QboApi) -> None:
    qbo.admin("POST", "/_sim/usage", json={"coreplus_monthly_cap": 1})
    qapi.query("select * from Customer")
    qbo.reset()
    assert usage_of(qbo)["usage"] == [] and usage_of(qbo)["coreplus_monthly_cap"] == 0


# ---------------------------------------------------------------- Q5: client credentials in the body


def test_token_endpoint_takes_credentials_in_the_form_body(qbo: Any) -> None:
    grant = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": CLIENT[0], "client_secret": CLIENT[1]}).json()
    form = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"],
            "client_id": CLIENT[0], "client_secret": CLIENT[1]}
    resp = requests.post(f"{qbo.url}/oauth2/v1/tokens/bearer", data=form, headers={"Accept": "application/json"},
                         timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "bearer" and resp.json()["refresh_token"] != grant["refresh_token"]
    wrong = requests.post(f"{qbo.url}/oauth2/v1/tokens/bearer", timeout=30,
                          data={**form, "refresh_token": resp.json()["refresh_token"], "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    basic_wins = token_request(qbo.url, {**form, "refresh_token": resp.json()["refresh_token"]},
                               auth=(CLIENT[0], "wrong"))
    assert basic_wins.status_code == 401 and basic_wins.json()["error"] == "invalid_client"


# ---------------------------------------------------------------- Q6: every real entity answers


@pytest.mark.parametrize("entity", ["Account", "Bill", "Payment", "Estimate", "CreditMemo", "SalesReceipt", "Class",
                                    "Department", "Term", "PaymentMethod", "JournalEntry", "Purchase", "Deposit",
                                    "TimeActivity", "Budget", "PurchaseOrder", "VendorCredit", "TaxAgency"])
def test_queries_for_real_entities_answer(qapi: QboApi, entity: str) -> None:
    tap_style = (f"SELECT * FROM {entity} WHERE Metadata.LastUpdatedTime >= '2026-01-01T00:00:00-08:00' "
                 "ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 200")
    resp = qapi.query(tap_style)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()["QueryResponse"]) <= {entity, "startPosition", "maxResults"}
    count = qapi.query(f"select count(*) from {entity}")
    assert count.status_code == 200 and "totalCount" in count.json()["QueryResponse"]


def test_unmodelled_entities_are_empty_and_unknown_ones_4001(qapi: QboApi) -> None:
    assert qapi.query("select * from Estimate where TotalAmt > '10.00'").json()["QueryResponse"] == {}
    assert qapi.query("select count(*) from Bill").json()["QueryResponse"] == {"totalCount": 0}
    assert_fault(qapi.get("/estimate/7"), "610")
    assert_fault(qapi.query("select * from Spaceship"), "4001")
    batch = qapi.post("/batch", {"BatchItemRequest": [{"bId": "b", "Query": "select * from SalesReceipt"}]})
    assert batch.json()["BatchItemResponse"] == [{"QueryResponse": {}, "bId": "b"}]


def test_cdc_of_the_tap_entity_list_in_one_call(qapi: QboApi) -> None:
    make_customer(qapi, "Changed Today")
    since = qapi.get("/preferences").json()["time"][:10]  # today, Pacific
    resp = qapi.get("/cdc", entities=TAP_CDC, changedSince=since)
    assert resp.status_code == 200, resp.text
    groups = resp.json()["CDCResponse"][0]["QueryResponse"]
    assert [next(k for k in g if k not in ("startPosition", "maxResults")) for g in groups] == ["Account", "Customer"]
    assert_fault(qapi.get("/cdc", entities="Customer,TimeActivity", changedSince=since), "4001")  # no CDC there
    assert_fault(qapi.get("/cdc", entities="Customer,Spaceship", changedSince=since), "4001")


# ---------------------------------------------------------------- Q7: alpha-3 countries


def test_customer_address_countries_become_alpha3(qbo: Any, qapi: QboApi) -> None:
    created = make_customer(qapi, "Far Away Ltd", BillAddr={"Line1": "1 Main St", "Country": "United States"},
                            ShipAddr={"Line1": "2 High St", "Country": "united kingdom"})
    assert created["BillAddr"]["Country"] == "USA" and created["ShipAddr"]["Country"] == "GBR"
    moved = qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True,
                                     "BillAddr": {"Line1": "3 Rue X", "Country": "France"},
                                     "ShipAddr": {"Line1": "Nowhere", "Country": "Narnia"}})
    assert moved["BillAddr"]["Country"] == "FRA" and moved["ShipAddr"]["Country"] == "Narnia"  # unknown: as sent
    assert qapi.get(f"/customer/{created['Id']}").json()["Customer"]["BillAddr"]["Country"] == "FRA"
    edited = qbo.admin("PATCH", f"/_sim/Customer/{created['Id']}", json={"BillAddr": {"Country": "US"}}).json()
    assert edited["Customer"]["BillAddr"]["Country"] == "USA"
    vendor = qapi.create("Vendor", {"DisplayName": "Vendor Far", "BillAddr": {"Country": "United States"}})
    assert vendor["BillAddr"]["Country"] == "United States"  # the fact covers customers (and company addresses)


def test_lenient_countries_as_sent(qbo: Any, qapi: QboApi) -> None:
    lenient(qbo, countries_as_sent=True)
    created = make_customer(qapi, "Kept Spelling", BillAddr={"Country": "United States"})
    assert created["BillAddr"]["Country"] == "United States"


# ---------------------------------------------------------------- Q8: void replaces the note


def voided_note(qapi: QboApi, note: str) -> str:
    customer = make_customer(qapi, "Void Co")
    inv = qapi.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(make_item(qapi), 1, 10)],
                                  "PrivateNote": note})
    voided = qapi.create("Invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void")
    return str(voided["PrivateNote"])


def test_void_replaces_the_note(qapi: QboApi) -> None:
    assert voided_note(qapi, "Synchroteam invoice 7") == "Voided"


def test_lenient_void_keeps_the_note(qbo: Any, qapi: QboApi) -> None:
    lenient(qbo, void_keeps_note=True)
    assert voided_note(qapi, "Synchroteam invoice 7") == "Voided - Synchroteam invoice 7"


# ---------------------------------------------------------------- the switches themselves


def test_lenient_switches_are_off_by_default_and_reset(qbo: Any) -> None:
    everything_off = {"duplicate_name_with_id": False, "order_by_id": False, "no_per_second_limit": False,
                      "countries_as_sent": False, "void_keeps_note": False}
    assert qbo.admin("GET", "/_sim/lenient").json() == everything_off
    assert lenient(qbo, order_by_id=True, void_keeps_note=True)["order_by_id"] is True
    assert qbo.admin("POST", "/_sim/lenient", json={"friendly": True}).status_code == 400
    assert qbo.admin("POST", "/_sim/lenient", json={"order_by_id": "yes"}).status_code == 400
    qbo.reset()
    assert qbo.admin("GET", "/_sim/lenient").json() == everything_off
