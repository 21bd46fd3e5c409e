"""Synchroteam simulator: invoices (read-only list/details, totals, statuses, filters) and the parts catalogue."""

from __future__ import annotations

import re
from typing import Any

import pytest

from simulators.synchroteam.testing import StClient

INVOICE_KEYS = {
    "id", "num", "reference", "status", "customer", "site", "job", "description", "currency", "dateCreated",
    "dateModified", "dateDue", "datePaid", "lines", "totalExclTax", "totalTax", "total", "customFieldValues",
}
LINE_KEYS = {"partProductCode", "description", "quantity", "unitPrice", "discount", "tax", "totalExclTax",
             "totalTax", "total"}
PART_KEYS = {"id", "reference", "name", "description", "price", "type", "status", "isTracked", "isSerializable",
             "minQuantity", "category", "tax", "dateCreated", "dateModified"}
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
TAX = {"name": "CA Sales Tax", "rate": 8.0}


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


@pytest.fixture()
def book(st: Any) -> dict[str, Any]:
    """Two customers and one invoice per status, created a day apart (oldest first)."""
    seeded = st.admin("POST", "/_sim/seed", json={"customers": [
        {"name": "Alpha", "address": "1 Road", "myId": "A-1"}, {"name": "Beta", "address": "2 Road"}]}).json()
    alpha, beta = seeded["customers"]
    invoices = []
    for day, status in enumerate(["paid", "late", "sent", "new", "draft", "paid"], start=1):
        invoices.append({
            "customer": {"id": (alpha if day % 2 else beta)["id"]}, "status": status,
            "dateCreated": f"2024-05-{day:02d} 09:00:00", "dateModified": f"2024-05-{day:02d} 10:30:00",
            "dateDue": f"2024-06-{day:02d}",
            "datePaid": f"2024-05-{day + 10:02d} 08:00:00" if status == "paid" else None,
            "lines": [{"partProductCode": "SVC-HOUR", "description": "Labour", "quantity": 2, "unitPrice": 85.0,
                       "tax": None}],
        })
    out = st.admin("POST", "/_sim/seed", json={"invoices": invoices}).json()
    return {"alpha": alpha, "beta": beta, "invoices": out["invoices"]}


def test_invoice_wire_shape_and_totals(st: Any, client: StClient) -> None:
    c = st.admin("POST", "/_sim/seed", json={"customers": [{"name": "Tax Co", "address": "x"}]}).json()
    lines = [
        {"partProductCode": "SVC-HOUR", "description": "Labour", "quantity": 2, "unitPrice": 85.0, "discount": 0,
         "tax": {"name": "NY", "rate": 8.875}},
        {"partProductCode": "PART-FILTER", "description": "Filter", "quantity": 3, "unitPrice": 12.5,
         "discount": 10, "tax": TAX},
        {"description": "Description only: access through the back door."},
    ]
    inv = st.admin("POST", "/_sim/seed", json={"invoices": [
        {"customer": {"id": c["customers"][0]["id"]}, "status": "sent", "lines": lines,
         "site": {"id": 77, "myId": None, "name": "HQ"},
         "job": {"id": "160453_2111190756181", "num": 1, "myId": ""}, "dateDue": "2024-06-01"}]}).json()
    got = client.ok("GET", "invoice/details", params={"id": inv["invoices"][0]["id"]})
    assert set(got) == INVOICE_KEYS and all(set(line) == LINE_KEYS for line in got["lines"])
    assert got["customer"] == {"id": c["customers"][0]["id"], "myId": None, "name": "Tax Co"}
    assert got["site"] == {"id": 77, "myId": None, "name": "HQ"} and got["job"]["id"] == "160453_2111190756181"
    assert isinstance(got["num"], int) and got["status"] == "sent" and got["currency"] == "USD"
    assert MINUTE.match(got["dateCreated"]) and got["dateDue"] == "2024-06-01" and got["datePaid"] is None
    labour, filters, note = got["lines"]
    assert (labour["totalExclTax"], labour["totalTax"], labour["total"]) == (170.0, 15.09, 185.09)
    assert labour["tax"] == {"name": "NY", "rate": 8.875} and labour["quantity"] == 2
    # 3 * 12.5 = 37.50, 10 % discount -> 33.75, tax 8 % -> 2.70
    assert (filters["totalExclTax"], filters["totalTax"], filters["total"]) == (33.75, 2.7, 36.45)
    assert filters["discount"] == 10
    assert note["partProductCode"] is None and note["quantity"] == 0 and note["unitPrice"] == 0
    assert note["tax"] is None and note["total"] == 0
    assert (got["totalExclTax"], got["totalTax"], got["total"]) == (203.75, 17.79, 221.54)


def test_half_up_rounding(st: Any, client: StClient) -> None:
    c = st.admin("POST", "/_sim/seed", json={"customers": [{"name": "R", "address": "x"}]}).json()
    inv = st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"id": c["customers"][0]["id"]},
        "status": "new", "lines": [{"partProductCode": "X", "quantity": 1, "unitPrice": 0.125,
                                    "tax": {"name": "T", "rate": 10}}]}]}).json()
    line = client.ok("GET", "invoice/details", params={"id": inv["invoices"][0]["id"]})["lines"][0]
    assert (line["totalExclTax"], line["totalTax"], line["total"]) == (0.13, 0.01, 0.14)


def test_list_newest_first_and_statuses(book: dict[str, Any], client: StClient) -> None:
    data = client.ok("GET", "invoice/list")["data"]
    assert [i["dateCreated"] for i in data] == [f"2024-05-{d:02d} 09:00" for d in range(6, 0, -1)]
    assert [i["status"] for i in data] == ["paid", "draft", "new", "sent", "late", "paid"]
    draft = data[1]
    assert draft["num"] is None and draft["reference"] is None
    nums = [i["num"] for i in data if i["status"] != "draft"]
    assert all(isinstance(n, int) for n in nums) and len(set(nums)) == 5


@pytest.mark.parametrize(
    ("params", "expected_days"),
    [
        ({"status": "paid"}, [6, 1]),
        ({"status": "DRAFT"}, [5]),
        ({"changedSince": "2024-05-04 10:30:00"}, [6, 5, 4]),
        ({"changedSince": "2024-05-04 10:30:01"}, [6, 5]),
        ({"createdSince": "2024-05-03 00:00:00"}, [6, 5, 4, 3]),
        ({"paidSince": "2024-05-12 00:00:00"}, [6]),
        ({"paidSince": "2024-05-01"}, [6, 1]),
        ({"status": "paid", "createdSince": "2024-05-02 00:00:00"}, [6]),
    ],
)
def test_list_filters(book: dict[str, Any], client: StClient, params: dict[str, Any],
                      expected_days: list[int]) -> None:
    data = client.ok("GET", "invoice/list", params=params)["data"]
    assert [int(i["dateCreated"][8:10]) for i in data] == expected_days


def test_list_filter_by_customer(book: dict[str, Any], client: StClient) -> None:
    by_id = client.ok("GET", "invoice/list", params={"customerId": book["beta"]["id"]})["data"]
    assert {i["customer"]["name"] for i in by_id} == {"Beta"} and len(by_id) == 3
    by_myid = client.ok("POST", "invoice/list", json={"customerMyId": "A-1"})["data"]
    assert {i["customer"]["id"] for i in by_myid} == {book["alpha"]["id"]} and len(by_myid) == 3


def test_status_filter_takes_any_string(book: dict[str, Any], client: StClient) -> None:
    """No status is unknown to the server (facts file, S4): a status nobody holds lists nothing, it is no 400."""
    assert client.ok("GET", "invoice/list", params={"status": "cancelled"}) == {
        "page": 1, "pageSize": 25, "records": 0, "recordsTotal": 0, "data": []}


def test_details_by_id_and_num(book: dict[str, Any], client: StClient) -> None:
    sent = next(i for i in book["invoices"] if i["status"] == "sent")
    assert client.ok("GET", "invoice/details", params={"num": sent["num"]})["id"] == sent["id"]
    assert client.ok("GET", "invoice/details", params={"id": sent["id"]}) == sent
    assert client.get("invoice/details", id=1).status_code == 404
    assert client.get("invoice/details", num=999999).json() == {"code": 404, "message": "Invoice not found"}
    assert client.get("invoice/details").status_code == 400


def test_invoice_shows_current_customer_name(st: Any, book: dict[str, Any], client: StClient) -> None:
    client.ok("POST", "customer/send", json={"id": book["alpha"]["id"], "name": "Alpha Renamed"})
    got = client.ok("GET", "invoice/list", params={"customerId": book["alpha"]["id"]})["data"]
    assert {i["customer"]["name"] for i in got} == {"Alpha Renamed"}


def test_ui_edit_draft_to_new_assigns_next_number(st: Any, book: dict[str, Any], client: StClient) -> None:
    draft = next(i for i in book["invoices"] if i["status"] == "draft")
    top = max(i["num"] for i in book["invoices"] if i["num"] is not None)
    edited = st.admin("PATCH", f"/_sim/invoices/{draft['id']}", json={"status": "new"}).json()
    assert edited["num"] == top + 1 and edited["status"] == "new"
    assert edited["dateModified"] > draft["dateModified"]
    listed = client.ok("GET", "invoice/list", params={"changedSince": "2024-06-01 00:00:00"})["data"]
    assert [i["id"] for i in listed] == [draft["id"]]
    back = st.admin("PATCH", f"/_sim/invoices/{draft['id']}", json={"status": "draft"})
    assert back.status_code == 400


def test_ui_edit_lines_recomputes_totals_and_paid_sets_date(st: Any, book: dict[str, Any]) -> None:
    sent = next(i for i in book["invoices"] if i["status"] == "sent")
    edited = st.admin("PATCH", f"/_sim/invoices/{sent['id']}", json={
        "lines": [{"partProductCode": "PART-VALVE", "quantity": 2, "unitPrice": 48, "tax": TAX}],
        "status": "paid"}).json()
    assert (edited["totalExclTax"], edited["totalTax"], edited["total"]) == (96.0, 7.68, 103.68)
    assert edited["status"] == "paid" and MINUTE.match(edited["datePaid"])


def test_seeded_invoice_validation(st: Any) -> None:
    c = st.admin("POST", "/_sim/seed", json={"customers": [{"name": "V", "address": "x"}]}).json()
    cid = c["customers"][0]["id"]
    bad = [
        {"customer": {"id": 424242}, "status": "new"},
        {"customer": {"id": cid}, "status": "draft", "num": 5},
        {"customer": {"id": cid}, "status": ""},
        {"customer": {"id": cid}, "status": 5},
        {"customer": {"id": cid}, "lines": [{"quantity": 1}]},
        {"customer": {"id": cid}, "lines": [{"description": "d", "discount": 150}]},
    ]
    for body in bad:
        assert st.admin("POST", "/_sim/seed", json={"invoices": [body]}).status_code == 400, body
    ok = st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"name": "V"}, "num": 7}]})
    assert ok.json()["invoices"][0]["num"] == 7
    dup = st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"id": cid}, "num": 7}]})
    assert dup.status_code == 400


# ----------------------------------------------------------------------------------------------- parts


def test_part_send_creates_and_upserts_by_reference(st: Any, client: StClient) -> None:
    created = client.ok("POST", "part/send", json={"reference": "SVC-HOUR", "name": "Labour hour",
                                                   "type": "service", "price": 85})
    assert set(created) == PART_KEYS
    assert (created["price"], created["type"], created["status"], created["tax"]) == ("85.00", "service", "active",
                                                                                       None)
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 120})
    same = client.ok("POST", "part/send", json={"reference": "SVC-HOUR", "price": "85.00"})
    assert same == created
    updated = client.ok("POST", "part/send", json={"reference": "svc-hour", "price": 90.5,
                                                   "tax": {"name": "CA Sales Tax", "rate": 8}})
    assert updated["id"] == created["id"] and updated["reference"] == "SVC-HOUR"
    assert updated["price"] == "90.50" and updated["name"] == "Labour hour"
    assert updated["tax"] == {"id": updated["tax"]["id"], "name": "CA Sales Tax", "tax": "8"}
    assert updated["dateModified"] > created["dateModified"]
    assert client.ok("GET", "part/details", params={"reference": "SVC-HOUR"}) == updated
    assert client.ok("GET", "part/details", params={"id": created["id"]}) == updated


@pytest.mark.parametrize(
    "body",
    [{"name": "no reference"}, {"reference": "X"}, {"reference": "X", "name": "n", "type": "bundle"},
     {"reference": "X", "name": "n", "price": "cheap"}, {"reference": "X", "name": "n", "price": -1},
     {"reference": "X", "name": "n", "tax": {"rate": 5}}],
    ids=["no-ref", "no-name", "bad-type", "bad-price", "negative", "tax-no-name"],
)
def test_part_send_validation(client: StClient, body: dict[str, Any]) -> None:
    resp = client.post("part/send", body)
    assert resp.status_code == 400 and resp.json()["code"] == 400


def test_part_list_type_and_changed_since(st: Any, client: StClient) -> None:
    st.admin("POST", "/_sim/seed", json={"parts": [
        {"reference": "SVC-HOUR", "name": "Labour", "type": "service", "price": 85,
         "dateCreated": "2024-01-01 00:00:00"},
        {"reference": "PART-FILTER", "name": "Filter", "type": "part", "price": 12.5, "tax": TAX,
         "dateCreated": "2024-03-01 00:00:00"},
    ]}).raise_for_status()
    services = client.ok("GET", "part/list", params={"type": "service"})["data"]
    assert [p["reference"] for p in services] == ["SVC-HOUR"]
    recent = client.ok("GET", "part/list", params={"changedSince": "2024-02-01 00:00:00"})["data"]
    assert [p["reference"] for p in recent] == ["PART-FILTER"]
    assert recent[0]["tax"]["name"] == "CA Sales Tax" and recent[0]["tax"]["tax"] == "8"
    assert client.get("part/list", type="kit").status_code == 400
    assert client.get("part/details", reference="NOPE").status_code == 404
    assert client.get("part/details").status_code == 400
