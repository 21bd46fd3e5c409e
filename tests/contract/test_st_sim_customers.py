"""Synchroteam simulator: customer list / details / send / delete and the customer wire shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from simulators.synchroteam.testing import StClient, since

CUSTOMER_KEYS = {
    "id", "myId", "name", "address", "addressStreet", "addressComplement", "addressZIP", "addressCity",
    "addressProvince", "addressCountry", "contactFirstName", "contactLastName", "contactEmail", "contactPhone",
    "contactMobile", "contactFax", "vatNumber", "publicLink", "customFieldValues", "position", "tags", "active",
    "dateCreated", "dateModified",
}
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
FULL = {
    "myId": "QBO-58", "name": "ACME Corp", "address": "279 Water Street, New York, NY 10038, USA",
    "addressStreet": "279 Water Street", "addressComplement": "Suite 4", "addressZIP": "10038",
    "addressCity": "New York", "addressProvince": "NY", "addressCountry": "USA",
    "contactFirstName": "Jane", "contactLastName": "Doe", "contactEmail": "jane@acme.com",
    "contactPhone": "+1 212 555 0100", "contactMobile": "+1 917 555 0101", "contactFax": "+1 212 555 0102",
    "vatNumber": "US-12-3456789", "customFieldValues": [{"id": 2346, "label": "QBO Id", "value": "58"}],
    "position": {"latitude": "40.7087252", "longitude": "-74.0008762"}, "tags": ["East Zone"], "active": True,
}


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


def advance(st: Any, seconds: int) -> None:
    st.admin("POST", "/_sim/clock", json={"advance_seconds": seconds}).raise_for_status()


def send(client: StClient, body: dict[str, Any]) -> dict[str, Any]:
    return dict(client.ok("POST", "customer/send", json=body))


def test_create_returns_full_customer_in_wire_shape(client: StClient) -> None:
    created = send(client, FULL)
    assert set(created) == CUSTOMER_KEYS
    for key, value in FULL.items():
        assert created[key] == value, key
    assert isinstance(created["id"], int)
    assert MINUTE.match(created["dateCreated"]) and created["dateCreated"] == created["dateModified"]
    assert created["publicLink"].startswith("https://")
    assert client.ok("GET", "customer/details", params={"id": created["id"]}) == created


def test_unset_fields_are_null_and_lists_empty(client: StClient) -> None:
    created = send(client, {"name": "Bare", "address": "1 Road"})
    assert created["contactEmail"] is None and created["myId"] is None and created["position"] is None
    assert created["tags"] == [] and created["customFieldValues"] == [] and created["active"] is True


@pytest.mark.parametrize(
    ("body", "missing"),
    [({"address": "1 Road"}, "name"), ({"name": "No Address"}, "address"), ({"name": "  ", "address": "x"}, "name"),
     ({"myId": "X-1", "name": "N"}, "address")],
    ids=["no-name", "no-address", "blank-name", "myid-no-address"],
)
def test_create_requires_name_and_address(st: Any, client: StClient, body: dict[str, Any], missing: str) -> None:
    resp = client.post("customer/send", body)
    assert resp.status_code == 400
    assert resp.json()["code"] == 400 and f"'{missing}'" in resp.json()["message"]
    assert st.admin("GET", "/_sim/state").json()["customers"] == []


@pytest.mark.parametrize(
    "body",
    [{"name": 5, "address": "x"}, {"name": "n", "address": "x", "active": "yes"},
     {"name": "n", "address": "x", "tags": "a,b"}, {"name": "n", "address": "x", "contactEmail": 12},
     {"name": "n", "address": "x", "customFieldValues": [{"value": "no key"}]}, ["not", "an", "object"]],
    ids=["name-int", "active-str", "tags-str", "email-int", "cf-no-key", "list-body"],
)
def test_bad_types_are_400(client: StClient, body: Any) -> None:
    resp = client.post("customer/send", body)
    assert resp.status_code == 400 and resp.json()["code"] == 400


def test_update_by_id_is_partial(st: Any, client: StClient) -> None:
    created = send(client, FULL)
    advance(st, 120)
    updated = send(client, {"id": created["id"], "contactEmail": "new@acme.com", "tags": ["West"]})
    assert updated["contactEmail"] == "new@acme.com" and updated["tags"] == ["West"]
    for key in ("name", "address", "contactFirstName", "contactPhone", "vatNumber", "myId", "position"):
        assert updated[key] == created[key], key
    assert updated["dateCreated"] == created["dateCreated"]
    assert updated["dateModified"] > created["dateModified"]


def test_null_clears_a_field(client: StClient) -> None:
    created = send(client, FULL)
    updated = send(client, {"id": created["id"], "contactFax": None})
    assert updated["contactFax"] is None and updated["contactPhone"] == FULL["contactPhone"]


def test_update_cannot_blank_name_or_address(client: StClient) -> None:
    created = send(client, FULL)
    assert client.post("customer/send", {"id": created["id"], "name": ""}).status_code == 400
    assert client.post("customer/send", {"id": created["id"], "address": None}).status_code == 400
    assert client.ok("GET", "customer/details", params={"id": created["id"]})["name"] == "ACME Corp"


def test_custom_fields_merge_by_id_or_label(client: StClient) -> None:
    created = send(client, {**FULL, "customFieldValues": [{"id": 1, "label": "A", "value": "a"},
                                                          {"id": 2, "label": "B", "value": "b"}]})
    updated = send(client, {"id": created["id"], "customFieldValues": [{"label": "B", "value": "b2"}]})
    assert updated["customFieldValues"] == [{"id": 1, "label": "A", "value": "a"},
                                            {"id": 2, "label": "B", "value": "b2"}]


def test_send_that_changes_nothing_keeps_date_modified(st: Any, client: StClient) -> None:
    created = send(client, FULL)
    advance(st, 300)
    same = send(client, {**FULL, "id": created["id"]})
    assert same == created
    advance(st, 300)
    changed = send(client, {"id": created["id"], "name": "ACME Corporation"})
    assert changed["dateModified"] > created["dateModified"]


def test_myid_match_updates_instead_of_creating(st: Any, client: StClient) -> None:
    created = send(client, FULL)
    again = send(client, {"myId": "QBO-58", "name": "ACME Renamed"})
    assert again["id"] == created["id"] and again["name"] == "ACME Renamed"
    assert again["address"] == FULL["address"]
    assert len(st.admin("GET", "/_sim/state").json()["customers"]) == 1


def test_unknown_id_is_404_and_creates_nothing(st: Any, client: StClient) -> None:
    resp = client.post("customer/send", {"id": 999999, "name": "Ghost", "address": "Nowhere"})
    assert resp.status_code == 404 and resp.json() == {"code": 404, "message": "Customer 999999 not found"}
    assert st.admin("GET", "/_sim/state").json()["customers"] == []


def test_myid_is_unique_per_account(client: StClient) -> None:
    first = send(client, FULL)
    other = send(client, {"name": "Other", "address": "2 Road", "myId": "OTHER"})
    resp = client.post("customer/send", {"id": other["id"], "myId": "QBO-58"})
    assert resp.status_code == 400 and "QBO-58" in resp.json()["message"]
    assert client.ok("GET", "customer/details", params={"myId": "QBO-58"})["id"] == first["id"]


def test_names_are_not_unique(client: StClient) -> None:
    a = send(client, {"name": "Smith Plumbing", "address": "1 Road", "contactEmail": "a@x.example"})
    b = send(client, {"name": "Smith Plumbing", "address": "2 Road", "contactEmail": "b@x.example"})
    assert a["id"] != b["id"]
    listed = client.ok("GET", "customer/list", params={"name": "Smith Plumbing"})
    assert [c["id"] for c in listed["data"]] == [a["id"], b["id"]] and listed["recordsTotal"] == 2


def test_details_by_id_myid_name(client: StClient) -> None:
    a = send(client, FULL)
    send(client, {"name": "acme corp", "address": "dup, lower case"})
    assert client.ok("GET", "customer/details", params={"myId": "QBO-58"})["id"] == a["id"]
    by_name = client.ok("GET", "customer/details", params={"name": "ACME Corp"})
    assert by_name["id"] == a["id"], "name lookups are case-insensitive and return the lowest id"
    assert client.ok("GET", "customer/details", params={"id": a["id"], "myId": "nope"})["id"] == a["id"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"id": 424242}, 404), ({"myId": "missing"}, 404), ({"name": "Nobody"}, 404), ({}, 400), ({"id": "abc"}, 400)],
)
def test_details_errors(client: StClient, params: dict[str, Any], status: int) -> None:
    resp = client.get("customer/details", **params)
    assert resp.status_code == status and resp.json()["code"] == status


def test_list_filters_name_exact_and_wildcard(client: StClient) -> None:
    for name in ("Cool Cars", "Cool Cats", "Hot Cars", "Crème de l'Été Pâtisserie", "Acme: North Branch"):
        send(client, {"name": name, "address": "1 Road"})

    def names(**params: Any) -> list[str]:
        return [c["name"] for c in client.ok("GET", "customer/list", params=params)["data"]]

    assert names(name="cool cars") == ["Cool Cars"]
    assert names(name="Cool*") == ["Cool Cars", "Cool Cats"]
    assert names(name="*Cars") == ["Cool Cars", "Hot Cars"]
    assert names(name="Crème de l'Été Pâtisserie") == ["Crème de l'Été Pâtisserie"]
    assert names(name="Acme: North Branch") == ["Acme: North Branch"]
    assert names(name="Cool") == []


def test_list_active_filter_is_strict(client: StClient) -> None:
    live = send(client, {"name": "Live", "address": "1 Road"})
    gone = send(client, {"name": "Gone", "address": "2 Road", "active": False})

    def ids(**params: Any) -> list[int]:
        return [c["id"] for c in client.ok("GET", "customer/list", params=params)["data"]]

    assert ids() == [live["id"]]
    assert ids(active="true") == [live["id"]]
    assert ids(active="false") == [gone["id"]]
    assert ids(active="False") == [gone["id"]]
    resp = client.get("customer/list", active="all")
    assert resp.status_code == 400 and resp.json()["code"] == 400
    assert client.ok("GET", "customer/details", params={"id": gone["id"]})["active"] is False


def test_list_filter_by_contact_email(client: StClient) -> None:
    a = send(client, {"name": "A", "address": "1", "contactEmail": "Jane@Acme.com"})
    send(client, {"name": "B", "address": "2", "contactEmail": "john@acme.com"})
    got = client.ok("GET", "customer/list", params={"email": "jane@acme.com"})["data"]
    assert [c["id"] for c in got] == [a["id"]]


def test_changed_since_sees_creates_and_updates(st: Any, client: StClient) -> None:
    old = send(client, {"name": "Old", "address": "1 Road"})
    untouched = send(client, {"name": "Untouched", "address": "3 Road"})
    advance(st, 3600)
    shown = client.ok("GET", "customer/details", params={"id": old["id"]})["dateModified"]
    cut = since(client.local_now())
    advance(st, 60)
    new = send(client, {"name": "New", "address": "2 Road"})
    send(client, {"id": old["id"], "contactPhone": "555"})
    got = client.ok("GET", "customer/list", params={"changedSince": cut})
    assert [c["id"] for c in got["data"]] == [old["id"], new["id"]]
    assert untouched["id"] not in [c["id"] for c in got["data"]]
    assert got["recordsTotal"] == 2 and shown < cut


def test_changed_since_combines_with_active(st: Any, client: StClient) -> None:
    cut = since(client.local_now())
    advance(st, 5)
    send(client, {"name": "Inactive New", "address": "1", "active": False})
    assert client.ok("GET", "customer/list", params={"changedSince": cut})["recordsTotal"] == 0
    assert client.ok("GET", "customer/list", params={"changedSince": cut, "active": "false"})["recordsTotal"] == 1


def test_delete_by_id_and_myid(st: Any, client: StClient) -> None:
    a = send(client, FULL)
    b = send(client, {"name": "B", "address": "2 Road"})
    resp = client.delete("customer/delete", myId="QBO-58")
    assert resp.status_code == 204 and resp.content == b""
    assert client.delete("customer/delete", id=b["id"]).status_code == 204
    for rid in (a["id"], b["id"]):
        assert client.get("customer/details", id=rid).status_code == 404
    assert client.ok("GET", "customer/list", params={"changedSince": "2000-01-01 00:00:00"})["data"] == []
    assert client.delete("customer/delete", id=a["id"]).status_code == 404
    assert client.delete("customer/delete").status_code == 400
    again = send(client, {"myId": "QBO-58", "name": "Reborn", "address": "x"})
    assert again["id"] not in (a["id"], b["id"])


def test_delete_refused_while_invoices_reference_customer(st: Any, client: StClient) -> None:
    c = send(client, {"name": "Billed", "address": "1 Road"})
    st.admin("POST", "/_sim/seed", json={"invoices": [{"customer": {"id": c["id"]}, "status": "new",
                                                       "lines": [{"description": "x"}]}]}).raise_for_status()
    resp = client.delete("customer/delete", id=c["id"])
    assert resp.status_code == 400 and "invoices" in resp.json()["message"]
    assert client.get("customer/details", id=c["id"]).status_code == 200
