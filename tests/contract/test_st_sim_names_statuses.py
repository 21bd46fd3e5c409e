"""Synchroteam simulator: prefix name look-ups (S2), the `records` count (S3) and any invoice status (S4).

Rows of the facts file: `customer/details?name=X` answers the first customer whose name STARTS WITH X, ignoring
case; list envelopes carry `records` (the rows of the page) besides `recordsTotal`; invoices may hold any status.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulators.synchroteam.testing import StClient


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults, not the exact look-ups the connector's tests still use."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


@pytest.fixture()
def smiths(st: Any) -> dict[str, int]:
    """Created in this order, so ids ascend: the plumbing firm comes first."""
    seeded = st.admin("POST", "/_sim/seed", json={"customers": [
        {"name": "Smith Plumbing", "address": "1"}, {"name": "Big Smith", "address": "2"},
        {"name": "Smith", "address": "3"}, {"name": "smithson & co", "address": "4", "active": False},
        {"name": "Acme*Star", "address": "5"},
    ]}).json()["customers"]
    return {c["name"]: c["id"] for c in seeded}


def lookup(client: StClient, name: str) -> str | None:
    resp = client.get("customer/details", name=name)
    if resp.status_code == 404:
        assert resp.json() == {"code": 404, "message": "Customer not found"}
        return None
    assert resp.status_code == 200, resp.text
    return str(resp.json()["name"])


# ----------------------------------------------------------------------------------------------- S2


@pytest.mark.parametrize(
    ("asked", "answered"),
    [("Smith", "Smith Plumbing"), ("smith", "Smith Plumbing"), ("SMITH P", "Smith Plumbing"),
     ("Smith Plumbing", "Smith Plumbing"), ("smithS", "smithson & co"), ("Big", "Big Smith"),
     ("Plumbing", None), ("Smith Plumbing Inc", None), ("Acme*", "Acme*Star"), ("Acme%", None), ("S", "Smith Plumbing")],
    ids=["exact-name-of-a-later-one", "lower", "upper-prefix", "whole-name", "inactive-too", "other-start",
         "not-a-prefix", "longer-than-any", "star-is-literal", "percent-is-literal", "one-letter"],
)
def test_details_by_name_answers_the_first_name_starting_with_it(
        smiths: dict[str, int], client: StClient, asked: str, answered: str | None) -> None:
    assert lookup(client, asked) == answered


def test_first_means_lowest_id_and_follows_renames(st: Any, smiths: dict[str, int], client: StClient) -> None:
    client.ok("POST", "customer/send", json={"id": smiths["Smith Plumbing"], "name": "Jones Plumbing"})
    assert lookup(client, "Smith") == "Smith"  # "Big Smith" does not start with it
    st.admin("DELETE", f"/_sim/customers/{smiths['Smith']}").raise_for_status()
    assert lookup(client, "Smith") == "smithson & co"
    assert lookup(client, "Jones") == "Jones Plumbing"


def test_exact_lookup_is_a_lenient_account_setting(st: Any, smiths: dict[str, int], client: StClient) -> None:
    st.admin("PATCH", "/_sim/account", json={"name_lookup": "exact"}).raise_for_status()
    try:
        assert lookup(client, "Smith") == "Smith"
        assert lookup(client, "SMITH PLUMBING") == "Smith Plumbing"
        assert lookup(client, "Smith P") is None
    finally:
        st.admin("PATCH", "/_sim/account", json={"name_lookup": "prefix"}).raise_for_status()
    assert lookup(client, "Smith") == "Smith Plumbing"


def test_id_and_myid_still_win_over_name(smiths: dict[str, int], client: StClient) -> None:
    got = client.ok("GET", "customer/details", params={"id": smiths["Smith"], "name": "Big"})
    assert got["name"] == "Smith"


def test_invoice_seeds_name_their_customer_exactly(st: Any, smiths: dict[str, int]) -> None:
    """The simulator's own seeds are not the API: `{"name": "Smith"}` is the customer called Smith."""
    seeded = st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"name": "smith"}, "status": "new"}]})
    assert seeded.json()["invoices"][0]["customer"]["id"] == smiths["Smith"]
    missing = st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"name": "Smi"}, "status": "new"}]})
    assert missing.status_code == 400


# ----------------------------------------------------------------------------------------------- S3


@pytest.mark.parametrize(("method", "path"), [("GET", "customer/list"), ("POST", "customer/list"),
                                              ("GET", "invoice/list"), ("GET", "part/list")])
def test_records_counts_the_rows_of_the_page(st: Any, smiths: dict[str, int], client: StClient, method: str,
                                             path: str) -> None:
    st.admin("POST", "/_sim/seed", json={
        "parts": [{"reference": f"P{i}", "name": "p"} for i in range(4)],
        "invoices": [{"customer": {"name": "Smith"}, "status": "new"} for _ in range(4)]})
    pages = [client.ok(method, path, params={"page": page, "pageSize": 3}) for page in (1, 2, 3)]
    assert [(p["records"], p["recordsTotal"], len(p["data"])) for p in pages] == [(3, 4, 3), (1, 4, 1), (0, 4, 0)]
    assert all(isinstance(p["records"], int) for p in pages)


# ----------------------------------------------------------------------------------------------- S4


STATUSES = ["partially paid", "cancelled", "Draft", "Voided", "new", "awaiting approval"]


@pytest.fixture()
def odd_invoices(st: Any, smiths: dict[str, int]) -> list[dict[str, Any]]:
    seeded = st.admin("POST", "/_sim/seed", json={"invoices": [
        {"customer": {"name": "Smith"}, "status": status, "lines": [{"description": status}]}
        for status in STATUSES]})
    assert seeded.status_code == 200, seeded.text
    return list(seeded.json()["invoices"])


def test_invoices_hold_any_status_string(odd_invoices: list[dict[str, Any]], client: StClient) -> None:
    assert [i["status"] for i in odd_invoices] == STATUSES  # kept as given
    listed = {i["status"] for i in client.list_all("invoice")}
    assert listed == set(STATUSES)
    numbered = {i["status"]: i["num"] for i in odd_invoices}
    assert numbered["Draft"] is None  # a draft in any case has no number yet
    assert all(isinstance(n, int) for s, n in numbered.items() if s != "Draft")
    assert all(i["datePaid"] is None for i in odd_invoices)  # "partially paid" is not paid


def test_status_filter_matches_any_status_ignoring_case(odd_invoices: list[dict[str, Any]],
                                                        client: StClient) -> None:
    for asked, expected in (("Partially Paid", ["partially paid"]), ("CANCELLED", ["cancelled"]),
                            ("draft", ["Draft"]), ("paid", []), ("written off", [])):
        got = client.ok("GET", "invoice/list", params={"status": asked})["data"]
        assert [i["status"] for i in got] == expected, asked


def test_ui_edit_sets_any_status(st: Any, odd_invoices: list[dict[str, Any]], client: StClient) -> None:
    new = next(i for i in odd_invoices if i["status"] == "new")
    edited = st.admin("PATCH", f"/_sim/invoices/{new['id']}", json={"status": "partially paid"}).json()
    assert edited["status"] == "partially paid" and edited["num"] == new["num"]
    assert edited["dateModified"] >= new["dateModified"]
    cancelled = st.admin("PATCH", f"/_sim/invoices/{new['id']}", json={"status": "cancelled"}).json()
    assert client.ok("GET", "invoice/details", params={"id": new["id"]}) == cancelled
    for bad in ("", "   ", 7, None, "x" * 51):
        resp = st.admin("PATCH", f"/_sim/invoices/{new['id']}", json={"status": bad})
        assert resp.status_code == 400, bad
    back = st.admin("PATCH", f"/_sim/invoices/{new['id']}", json={"status": "DRAFT"})
    assert back.status_code == 400  # a numbered invoice cannot go back to draft, whatever the case
