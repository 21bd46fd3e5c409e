"""The in-memory fakes behave like the real APIs where the core depends on it (else unit tests prove nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stqbo_api.errors import (
    DuplicateNameError,
    NotFoundError,
    RetriableApiError,
    StaleObjectError,
    ValidationError,
)
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from tests.unit.fakes import FakeQuickBooks, FakeSynchroteam, parse_query


def _protocol_members(proto: type) -> set[str]:
    return {n for n in vars(proto) if not n.startswith("_")} | set(getattr(proto, "__annotations__", {}))


@pytest.mark.parametrize(("proto", "fake"), [(QuickBooksApi, FakeQuickBooks), (SynchroteamApi, FakeSynchroteam)],
                         ids=["quickbooks", "synchroteam"])
def test_fakes_implement_every_member_of_the_client_protocols(proto: type, fake: type) -> None:
    instance = fake()
    missing = sorted(n for n in _protocol_members(proto) if not hasattr(instance, n))
    assert missing == []


def test_typed_as_the_protocols() -> None:
    qbo: QuickBooksApi = FakeQuickBooks()   # mypy checks the signatures here
    st: SynchroteamApi = FakeSynchroteam()
    assert (qbo.realm_id, st.domain) == ("9130", "demo")


# ----------------------------------------------------------------------------------------------- QuickBooks


def test_create_assigns_id_token_and_times_and_stores_trimmed_values() -> None:
    qbo = FakeQuickBooks()
    obj = qbo.create("Customer", {"DisplayName": " Acme ", "GivenName": "", "BillAddr": {"City": "Paris"}}, "r1")
    assert (obj["Id"], obj["SyncToken"], obj["DisplayName"], obj["Active"]) == ("1", "0", "Acme", True)
    assert "GivenName" not in obj and obj["BillAddr"] == {"City": "Paris"}
    assert obj["MetaData"]["LastUpdatedTime"] == obj["MetaData"]["CreateTime"]
    assert qbo.get("Customer", "1") == obj


@pytest.mark.parametrize(
    ("holder_entity", "name"),
    [("Customer", "acme"), ("Vendor", "ACME"), ("Employee", " Acme "), ("Customer", "Acme (deleted)")],
    ids=["customer-any-case", "vendor", "employee-trimmed", "inactive-customer-keeps-its-suffixed-name"],
)
def test_display_name_is_unique_across_customers_vendors_and_employees(holder_entity: str, name: str) -> None:
    qbo = FakeQuickBooks()
    holder = qbo.add(holder_entity, DisplayName="Acme", Active=not name.endswith("(deleted)"), Id="58")
    with pytest.raises(DuplicateNameError) as caught:
        qbo.create("Customer", {"DisplayName": name}, "r1")
    assert caught.value.existing_id == holder["Id"] == "58"
    assert caught.value.code == "6240"


def test_inactive_customer_frees_the_plain_name() -> None:
    qbo = FakeQuickBooks()
    qbo.add("Customer", DisplayName="Acme", Active=False)
    assert qbo.create("Customer", {"DisplayName": "Acme"}, "r1")["DisplayName"] == "Acme"


def test_ids_count_per_entity_type() -> None:
    qbo = FakeQuickBooks()
    assert qbo.add("Vendor", DisplayName="V")["Id"] == qbo.add("Customer", DisplayName="C")["Id"] == "1"


def test_same_request_id_replays_the_first_answer_without_writing_again() -> None:
    qbo = FakeQuickBooks()
    first = qbo.create("Customer", {"DisplayName": "Acme"}, "same-id")
    again = qbo.create("Customer", {"DisplayName": "Acme"}, "same-id")
    assert again == first and len(qbo.customers()) == 1
    with pytest.raises(DuplicateNameError):
        qbo.create("Customer", {"DisplayName": "Acme"}, "other-id")


def test_lost_reply_applies_the_write_and_the_retry_is_replayed() -> None:
    qbo = FakeQuickBooks()
    qbo.fail_next("create", RetriableApiError("reply lost", api="quickbooks"), apply=True)
    with pytest.raises(RetriableApiError):
        qbo.create("Customer", {"DisplayName": "Acme"}, "r1")
    assert [c["DisplayName"] for c in qbo.customers()] == ["Acme"]
    assert qbo.create("Customer", {"DisplayName": "Acme"}, "r1")["Id"] == "1"
    assert qbo.methods_called() == ["create", "create"]


def test_sparse_update_needs_the_current_sync_token_and_replaces_members_whole() -> None:
    qbo = FakeQuickBooks()
    obj = qbo.add("Customer", DisplayName="Acme", GivenName="Ann", BillAddr={"Line1": "1 Main", "City": "Paris"})
    new = qbo.update("Customer", {"Id": obj["Id"], "SyncToken": "0", "BillAddr": {"City": "Lyon"}}, "u1")
    assert (new["SyncToken"], new["GivenName"], new["BillAddr"]) == ("1", "Ann", {"City": "Lyon"})
    assert new["MetaData"]["LastUpdatedTime"] > obj["MetaData"]["LastUpdatedTime"]
    with pytest.raises(StaleObjectError) as caught:
        qbo.update("Customer", {"Id": obj["Id"], "SyncToken": "0", "GivenName": "Bob"}, "u2")
    assert caught.value.code == "5010"
    assert qbo.get("Customer", obj["Id"])["GivenName"] == "Ann"


def test_rename_into_a_taken_name_is_refused_but_keeping_ones_own_is_not() -> None:
    qbo = FakeQuickBooks()
    qbo.add("Vendor", DisplayName="Bolt")
    obj = qbo.add("Customer", DisplayName="Acme")
    assert qbo.update("Customer", {"Id": obj["Id"], "SyncToken": "0", "DisplayName": "ACME"}, "u1")["DisplayName"] \
        == "ACME"
    with pytest.raises(DuplicateNameError):
        qbo.update("Customer", {"Id": obj["Id"], "SyncToken": "1", "DisplayName": "bolt"}, "u2")


def test_deactivate_adds_the_deleted_suffix_and_reactivation_drops_it() -> None:
    qbo = FakeQuickBooks()
    obj = qbo.add("Customer", DisplayName="Acme")
    gone = qbo.deactivate_customer(obj["Id"], "0", "d1")
    assert (gone["Active"], gone["DisplayName"]) == (False, "Acme (deleted)")
    back = qbo.update("Customer", {"Id": obj["Id"], "SyncToken": "1", "Active": True}, "a1")
    assert (back["Active"], back["DisplayName"]) == (True, "Acme")


def test_get_of_an_unknown_id_is_not_found() -> None:
    with pytest.raises(NotFoundError) as caught:
        FakeQuickBooks().get("Customer", "404")
    assert caught.value.code == "610"


def test_find_name_holder_looks_in_the_three_name_lists_any_case_and_spacing() -> None:
    qbo = FakeQuickBooks()
    qbo.add("Vendor", DisplayName="Acme  Corp", Id="58")
    qbo.add("Customer", DisplayName="Other")
    holder = qbo.find_name_holder(" ACME CORP")
    assert holder is not None and (holder["_entity"], holder["Id"]) == ("Vendor", "58")
    assert qbo.find_name_holder("Nobody") is None


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM Customer", ["1", "2"]),
        ("SELECT * FROM Customer WHERE Active IN (true, false)", ["1", "2", "3"]),
        ("SELECT * FROM Customer WHERE DisplayName = 'o\\'brien'", ["2"]),
        ("SELECT * FROM Invoice WHERE CustomerRef = '2'", ["2"]),
        ("SELECT * FROM Invoice WHERE CustomerRef IN ('1', '2')", ["1", "2"]),
        ("SELECT * FROM Invoice WHERE Id IN ('2')", ["2"]),
        ("SELECT * FROM Item WHERE Name = 'labour'", ["1"]),
        ("SELECT * FROM Item WHERE Sku = 'P-1'", ["1"]),
        ("SELECT * FROM Account WHERE AccountType = 'Income'", ["1"]),
        ("SELECT * FROM TaxCode", ["1"]),
        ("SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '2026-11-25T10:00:02-00:00' "
         "AND Active IN (true, false) ORDERBY MetaData.LastUpdatedTime", ["2", "3"]),
    ],
    ids=["active-only-by-default", "active-and-inactive", "display-name-escaped", "customer-ref", "customer-ref-in",
         "id-in", "item-name-any-case", "item-sku", "account-type", "tax-codes", "changed-since"],
)
def test_query_supports_what_the_core_sends(statement: str, expected: list[str]) -> None:
    qbo = FakeQuickBooks()
    qbo.add("Customer", DisplayName="Acme")
    qbo.add("Customer", DisplayName="O'Brien")
    qbo.add("Customer", DisplayName="Gone", Active=False)
    qbo.add("Invoice", CustomerRef={"value": "1"}, Line=[{"Amount": 10, "DetailType": "SalesItemLineDetail"}])
    qbo.add("Invoice", CustomerRef={"value": "2"})
    qbo.add("Item", Name="Labour", Sku="P-1", Type="Service")
    qbo.add("Account", Name="Sales", AccountType="Income")
    qbo.add("TaxCode", Name="TAX")
    entity = statement.split()[3]
    assert [o["Id"] for o in qbo.query(statement) if o] == expected, entity


def test_query_outside_the_supported_language_is_refused_like_quickbooks_does() -> None:
    with pytest.raises(ValidationError):
        parse_query("SELECT Id FROM Customer")
    qbo = FakeQuickBooks()
    qbo.fail_next("query", ValidationError("refused", api="quickbooks", code="4000"), match="IN (")
    with pytest.raises(ValidationError):
        qbo.query("SELECT * FROM Invoice WHERE Id IN ('1')")
    assert list(qbo.query("SELECT * FROM Invoice WHERE Id = '1'")) == []


def test_cdc_returns_objects_changed_since_and_deleted_invoices() -> None:
    qbo = FakeQuickBooks()
    qbo.add("Customer", DisplayName="Old")
    since = qbo.now + timedelta(seconds=1)
    new = qbo.create("Customer", {"DisplayName": "New"}, "r1")
    inv = qbo.create("Invoice", {"CustomerRef": {"value": new["Id"]}}, "r2")
    qbo.delete_invoice(inv["Id"], "0", "r3")
    result = qbo.cdc(["Customer", "Invoice"], since)
    assert [c["DisplayName"] for c in result.objects["Customer"]] == ["New"]
    assert [(i["Id"], i["status"]) for i in result.objects["Invoice"]] == [(inv["Id"], "Deleted")]


def test_batch_answers_per_item_and_replays_a_chunk_by_its_request_id() -> None:
    qbo = FakeQuickBooks()
    qbo.add("Vendor", DisplayName="Taken")
    items = [{"bId": "b0", "operation": "create", "Customer": {"DisplayName": "One"}},
             {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Taken"}}]
    results = qbo.batch(items, request_id_prefix="run1")
    assert results["b0"].ok and results["b0"].obj is not None and results["b0"].obj["DisplayName"] == "One"
    assert isinstance(results["b1"].error, DuplicateNameError)
    again = qbo.batch(items, request_id_prefix="run1")
    assert again["b0"].obj == results["b0"].obj and len(qbo.customers()) == 1
    assert [c.request_id for c in qbo.calls] == ["run1-0", "run1-0"]


def test_preferences_and_company_info() -> None:
    qbo = FakeQuickBooks(company_info={"CompanyName": "Mine", "Country": "FR"})
    assert qbo.get_company_info()["Country"] == "FR"
    assert qbo.get_preferences()["CurrencyPrefs"]["HomeCurrency"] == {"value": "USD"}


# ----------------------------------------------------------------------------------------------- Synchroteam


def test_send_customer_creates_then_updates_by_my_id_and_keeps_an_unchanged_date() -> None:
    st = FakeSynchroteam()
    made = st.send_customer({"myId": "QBO-1-7", "name": "Acme", "address": "1 Main St"})
    assert (made["name"], made["myId"], made["active"]) == ("Acme", "QBO-1-7", True)
    same = st.send_customer({"myId": "QBO-1-7", "name": "Acme"})
    assert same["id"] == made["id"] and same["dateModified"] == made["dateModified"]
    changed = st.send_customer({"myId": "QBO-1-7", "contactEmail": "a@acme.example"})
    assert changed["dateModified"] > made["dateModified"] and changed["name"] == "Acme"
    assert len(st.customers) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [({"id": 999, "name": "X"}, NotFoundError), ({"name": "No address"}, ValidationError),
     ({"id": 1002, "myId": "taken"}, ValidationError)],
    ids=["unknown-id", "create-needs-address", "my-id-held-by-another"],
)
def test_send_customer_refusals(body: dict[str, object], error: type[Exception]) -> None:
    st = FakeSynchroteam()
    st.add_customer("Holder", myId="taken")
    assert st.add_customer("Other")["id"] == 1002
    with pytest.raises(error):
        st.send_customer(body)


def test_get_customer_by_exactly_one_key() -> None:
    st = FakeSynchroteam()
    a = st.add_customer("Acme", myId="m1")
    st.add_customer("ACME")
    assert st.get_customer(id=a["id"]) == a
    assert st.get_customer(my_id="m1") == a
    assert st.get_customer(name="acme") == a        # case-insensitive, lowest id
    assert st.get_customer(name="nobody") is None
    with pytest.raises(ValueError):
        st.get_customer(id=1, name="Acme")


def test_list_customers_filters_by_activity_and_change_time() -> None:
    st = FakeSynchroteam()
    st.add_customer("Old")
    since = st.now + timedelta(minutes=1)
    st.add_customer("New")
    st.add_customer("Gone", active=False)
    assert [c["name"] for c in st.list_customers()] == ["Old", "New", "Gone"]
    assert [c["name"] for c in st.list_customers(active=True)] == ["Old", "New"]
    assert [c["name"] for c in st.list_customers(changed_since=since)] == ["New", "Gone"]


def test_deleted_customer_is_gone() -> None:
    st = FakeSynchroteam()
    a = st.add_customer("Acme")
    st.delete_customer(id=a["id"])
    assert st.get_customer(id=a["id"]) is None
    with pytest.raises(NotFoundError):
        st.send_customer({"id": a["id"], "name": "Back"})


def test_invoices_and_parts() -> None:
    st = FakeSynchroteam()
    st.add_invoice(num=1, status="draft", customer={"id": 5})
    paid = st.add_invoice(num=2, status="paid", customer={"id": 6}, datePaid="2026-11-25 12:00")
    st.add_part("P-1", name="Pipe")
    assert [i["num"] for i in st.list_invoices()] == [2, 1]
    assert [i["num"] for i in st.list_invoices(status="paid")] == [2]
    assert [i["num"] for i in st.list_invoices(customer_id=5)] == [1]
    assert st.get_invoice(paid["id"]) == paid and st.get_invoice(12345) is None
    assert st.get_part("p-1") is not None and st.get_part("nope") is None
    assert [p["reference"] for p in st.list_parts()] == ["P-1"]
