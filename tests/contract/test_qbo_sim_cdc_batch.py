"""QuickBooks simulator: change data capture, batch, and `requestid` idempotency."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from test_qbo_sim_support import (
    ENVELOPE_TIME,
    QboApi,
    advance,
    assert_fault,
    connect,
    line,
    make_customer,
    make_item,
)


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)


def cdc(api: QboApi, entities: str, since: str) -> requests.Response:
    return api.get("/cdc", entities=entities, changedSince=since, minorversion="75")


def groups(resp: requests.Response) -> dict[str, list[dict[str, Any]]]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"CDCResponse", "time"} and ENVELOPE_TIME.match(body["time"])
    out: dict[str, list[dict[str, Any]]] = {}
    for group in body["CDCResponse"][0]["QueryResponse"]:
        for key, value in group.items():
            if key not in ("startPosition", "maxResults", "totalCount"):
                out[key] = value
                assert group["maxResults"] == len(value) and group["startPosition"] == 1
    return out


def now_of(api: QboApi) -> str:
    return str(api.query("select count(*) from Customer").json()["time"])


def test_cdc_returns_changes_since_with_deletions_and_inactive(qapi: QboApi) -> None:
    item = make_item(qapi)
    old = make_customer(qapi, "Old Customer")
    advance(qapi, 120)
    since = now_of(qapi)
    advance(qapi, 60)
    new = make_customer(qapi, "New Customer")
    qapi.create("Customer", {"Id": old["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    inv = qapi.create("Invoice", {"CustomerRef": {"value": new["Id"]}, "Line": [line(item, 1, 10)]})
    doomed = qapi.create("Invoice", {"CustomerRef": {"value": new["Id"]}, "Line": [line(item, 1, 20)]})
    qapi.post("/invoice", {"Id": doomed["Id"], "SyncToken": "0"}, operation="delete")
    found = groups(cdc(qapi, "Customer,Invoice,Item", since))
    assert sorted(c["DisplayName"] for c in found["Customer"]) == ["New Customer", "Old Customer (deleted)"]
    assert "Item" not in found
    invoices = found["Invoice"]
    assert invoices[0]["Id"] == inv["Id"] and invoices[0]["TotalAmt"] == 10.0  # full payloads
    tomb = invoices[-1]
    assert set(tomb) == {"domain", "status", "Id", "MetaData"}
    assert tomb["status"] == "Deleted" and tomb["Id"] == doomed["Id"] and "LastUpdatedTime" in tomb["MetaData"]


def test_cdc_without_changes_and_with_a_plain_date(qapi: QboApi) -> None:
    resp = cdc(qapi, "Customer", "2099-01-01T00:00:00-08:00")
    assert resp.json()["CDCResponse"] == [{"QueryResponse": [{}]}]
    make_customer(qapi, "Today")
    day = now_of(qapi)[:10]
    assert list(groups(cdc(qapi, "customer", day))) == ["Customer"]


def test_cdc_looks_back_at_most_30_days(qapi: QboApi) -> None:
    recent = now_of(qapi)
    assert cdc(qapi, "Customer", recent).status_code == 200
    resp = cdc(qapi, "Customer", "2020-01-01T00:00:00-08:00")
    error = assert_fault(resp, "6000")
    assert "30 days" in error["Detail"]


def test_cdc_rejects_unsupported_entities_and_missing_params(qapi: QboApi) -> None:
    assert_fault(cdc(qapi, "TaxCode", now_of(qapi)), "4001")
    assert_fault(qapi.get("/cdc", entities="Customer"), "2020")
    assert_fault(qapi.get("/cdc", changedSince=now_of(qapi)), "2020")


def test_cdc_answers_at_most_1000_objects_oldest_first(qapi: QboApi) -> None:
    since = now_of(qapi)[:10]
    qapi.seed({"Customer": [{"DisplayName": f"Bulk {i:04d}"} for i in range(1005)]})
    found = groups(cdc(qapi, "Customer", since))
    assert len(found["Customer"]) == 1000


def test_batch_per_item_results_and_faults(qapi: QboApi) -> None:
    item = make_item(qapi)
    customer = make_customer(qapi, "Batch Customer")
    inv = qapi.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item, 1, 10)]})
    body = {"BatchItemRequest": [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "129", "SyncToken": "0"}},
        {"bId": "bid3", "operation": "update", "Customer": {"Id": customer["Id"], "SyncToken": "9", "sparse": True,
                                                            "Notes": "x"}},
        {"bId": "bid4", "Query": "select * from Customer where DisplayName = 'Batch Customer'"},
        {"bId": "bid5", "operation": "update", "optionsData": "void", "Invoice": {"Id": inv["Id"], "SyncToken": "0"}},
        {"bId": "bid6", "operation": "create", "Customer": {"DisplayName": "Boraski Family Store"}},
    ]}
    resp = qapi.post("/batch", body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert set(answer) == {"BatchItemResponse", "time"}
    items = {i["bId"]: i for i in answer["BatchItemResponse"]}
    assert items["bid1"]["Vendor"]["DisplayName"] == "Boraski Family Store" and items["bid1"]["Vendor"]["Id"]
    assert items["bid2"]["Fault"]["type"] == "ValidationFault"
    assert items["bid2"]["Fault"]["Error"][0]["code"] == "610"
    assert items["bid3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["bid4"]["QueryResponse"]["Customer"][0]["Id"] == customer["Id"]
    assert items["bid5"]["Invoice"]["TotalAmt"] == 0
    assert items["bid6"]["Fault"]["Error"][0]["code"] == "6240"


def test_batch_allows_at_most_30_items(qapi: QboApi) -> None:
    items = [{"bId": f"b{i}", "Query": "select * from Customer"} for i in range(31)]
    error = assert_fault(qapi.post("/batch", {"BatchItemRequest": items}), "6000")
    assert "30" in error["Detail"]
    resp = qapi.post("/batch", {"BatchItemRequest": items[:30]})
    assert resp.status_code == 200 and len(resp.json()["BatchItemResponse"]) == 30


def test_requestid_replays_the_original_response_and_writes_once(qapi: QboApi) -> None:
    first = qapi.post("/customer", {"DisplayName": "Idempotent Inc"}, requestid="5c0a1f7e-0b0e-4c1a-9a59-3f0e1a2b3c4d")
    again = qapi.post("/customer", {"DisplayName": "Idempotent Inc"}, requestid="5c0a1f7e-0b0e-4c1a-9a59-3f0e1a2b3c4d")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()  # the very same body, `time` included
    assert qapi.query("select count(*) from Customer").json()["QueryResponse"]["totalCount"] == 1
    fresh = qapi.post("/customer", {"DisplayName": "Idempotent Inc"}, requestid="another-id")
    assert_fault(fresh, "6240")


def test_requestid_replays_errors_too_and_is_per_realm(qbo: Any, qapi: QboApi) -> None:
    bad = qapi.post("/customer", {"CompanyName": "no name"}, requestid="rid-1")
    assert_fault(bad, "6080")
    assert_fault(qapi.post("/customer", {"DisplayName": "Now Valid"}, requestid="rid-1"), "6080")
    other = connect(qbo, realm_id="4620816365000000003")
    assert other.post("/customer", {"DisplayName": "Now Valid"}, requestid="rid-1").status_code == 200


def test_batch_with_requestid_is_replayed(qapi: QboApi) -> None:
    body = {"BatchItemRequest": [{"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batched"}}]}
    first = qapi.post("/batch", body, requestid="batch-1")
    again = qapi.post("/batch", body, requestid="batch-1")
    assert first.json() == again.json()
    assert qapi.query("select count(*) from Customer").json()["QueryResponse"]["totalCount"] == 1


def test_requestid_length_limits(qapi: QboApi) -> None:
    error = assert_fault(qapi.post("/customer", {"DisplayName": "Long Id"}, requestid="r" * 51), "2050")
    assert error["element"] == "requestid" and "Max:50" in error["Detail"]
    assert qapi.post("/customer", {"DisplayName": "Long Id"}, requestid="r" * 50).status_code == 200
    body = {"BatchItemRequest": [{"bId": "b" * 11, "Query": "select * from Customer"}]}
    assert assert_fault(qapi.post("/batch", body, requestid="b-1"), "2050")["element"] == "bId"
    assert qapi.post("/batch", body).status_code == 200  # long bIds are fine without a requestid
    short = {"BatchItemRequest": [{"bId": "b1", "Query": "select * from Customer"}]}
    assert assert_fault(qapi.post("/batch", short, requestid="x" * 37), "2050")["element"] == "requestid"
    assert qapi.post("/batch", short, requestid="x" * 36).status_code == 200
