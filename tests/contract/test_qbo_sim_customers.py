"""QuickBooks simulator: name-list entities (Customer, Vendor, Employee, Item, Account) over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from test_qbo_sim_support import (
    ENVELOPE_TIME,
    QboApi,
    assert_entity_shape,
    assert_fault,
    connect,
    line,
    make_customer,
    make_item,
)


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)


def test_create_customer_fills_server_defaults_and_envelope(qapi: QboApi) -> None:
    resp = qapi.post("/customer", {"DisplayName": "  Cool Cars  ", "GivenName": "Grace", "FamilyName": "Pariente",
                                   "PrimaryPhone": {"FreeFormNumber": "415.555.9933"}, "Notes": ""})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"Customer", "time"} and ENVELOPE_TIME.match(body["time"])
    customer = body["Customer"]
    assert_entity_shape(customer)
    assert customer["SyncToken"] == "0"
    assert customer["DisplayName"] == "Cool Cars"  # trimmed
    assert customer["FullyQualifiedName"] == customer["PrintOnCheckName"] == "Cool Cars"
    assert customer["PrimaryPhone"] == {"FreeFormNumber": "415.555.9933"}  # kept as sent
    assert "Notes" not in customer  # empty values are omitted
    assert (customer["Taxable"], customer["Job"], customer["BillWithParent"], customer["Active"]) == (True, False, False, True)
    assert customer["Balance"] == 0 and customer["BalanceWithJobs"] == 0
    assert customer["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    assert customer["PreferredDeliveryMethod"] == "Print"
    assert customer["DefaultTaxCodeRef"] == {"value": "2"}
    read = qapi.get(f"/customer/{customer['Id']}").json()["Customer"]
    assert read == customer


def test_display_name_is_built_from_name_parts(qapi: QboApi) -> None:
    customer = qapi.create("Customer", {"Title": "Dr.", "GivenName": "Geeta", "FamilyName": "Kalapatapu"})
    assert customer["DisplayName"] == "Dr. Geeta Kalapatapu"


def test_python_quickbooks_style_body_with_empty_strings_is_accepted(qapi: QboApi) -> None:
    body = {"Title": "", "GivenName": "", "MiddleName": "", "FamilyName": "", "Suffix": "", "FullyQualifiedName": "",
            "CompanyName": "", "DisplayName": "Jeff's Jalopies", "PrintOnCheckName": "", "Notes": "", "Active": True,
            "Job": False, "BillWithParent": False, "Taxable": True, "Balance": 0, "BalanceWithJobs": 0,
            "PreferredDeliveryMethod": "", "ResaleNum": "", "SyncToken": 0, "sparse": False, "domain": "QBO"}
    customer = qapi.create("Customer", body)
    assert customer["DisplayName"] == "Jeff's Jalopies" and "Title" not in customer


def test_no_name_is_6080(qapi: QboApi) -> None:
    error = assert_fault(qapi.post("/customer", {"CompanyName": "Nameless Inc", "Notes": "x"}), "6080")
    assert error["Message"] == "No Name Provided"


def test_unknown_field_is_2010(qapi: QboApi) -> None:
    error = assert_fault(qapi.post("/customer", {"DisplayName": "X", "BadJson": 1}), "2010")
    assert "Unrecognized field \"BadJson\"" in error["Detail"]


@pytest.mark.parametrize(("field", "value"), [("DisplayName", "A:B"), ("GivenName", "Tab\there"),
                                              ("FamilyName", "New\nline"), ("Title", "Dr:")])
def test_forbidden_characters_are_2050(qapi: QboApi, field: str, value: str) -> None:
    body = {"DisplayName": "Valid Name", field: value}
    error = assert_fault(qapi.post("/customer", body), "2050")
    assert error["element"] == field


@pytest.mark.parametrize(("body", "element"), [
    ({"DisplayName": "x" * 501}, "DisplayName"),
    ({"DisplayName": "ok", "GivenName": "g" * 101}, "GivenName"),
    ({"DisplayName": "ok", "Title": "t" * 17}, "Title"),
    ({"DisplayName": "ok", "PrimaryPhone": {"FreeFormNumber": "1" * 22}}, "PrimaryPhone.FreeFormNumber"),
    ({"DisplayName": "ok", "BillAddr": {"PostalCode": "9" * 31}}, "BillAddr.PostalCode"),
    ({"DisplayName": "ok", "PrimaryEmailAddr": {"Address": "a" * 95 + "@b.com"}}, "PrimaryEmailAddr.Address"),
])
def test_maximum_lengths_are_2050(qapi: QboApi, body: dict, element: str) -> None:
    error = assert_fault(qapi.post("/customer", body), "2050")
    assert error["element"] == element
    assert "Max:" in error["Detail"] and "Supplied length:" in error["Detail"]


def test_maximum_display_name_length_is_accepted(qapi: QboApi) -> None:
    assert len(qapi.create("Customer", {"DisplayName": "x" * 500})["DisplayName"]) == 500


def test_bad_email_is_rejected(qapi: QboApi) -> None:
    assert_fault(qapi.post("/customer", {"DisplayName": "Mail", "PrimaryEmailAddr": {"Address": "no-at-sign"}}), "6000")


def test_display_name_unique_across_customer_vendor_employee_case_and_space_insensitive(qapi: QboApi) -> None:
    qapi.create("Vendor", {"DisplayName": "Books by Bessie"})
    error = assert_fault(qapi.post("/customer", {"DisplayName": " books  BY   bessie "}), "6240")
    assert error["Message"] == "Duplicate Name Exists Error"
    assert error["Detail"] == ("The name supplied already exists. : Another customer, vendor or employee is already "
                               "using this name. Please use a different name.")  # no Id: find the holder yourself
    employee = qapi.create("Employee", {"GivenName": "Emily", "FamilyName": "Platt"})
    assert employee["DisplayName"] == "Emily Platt"
    assert_fault(qapi.post("/vendor", {"DisplayName": "Emily Platt"}), "6240")


def test_inactive_records_still_block_their_stored_name(qapi: QboApi) -> None:
    qapi.seed({"Customer": [{"DisplayName": "Weiskopf Consulting (deleted)", "Active": False}]})
    error = assert_fault(qapi.post("/customer", {"DisplayName": "weiskopf consulting (deleted)"}), "6240")
    assert "Another customer, vendor or employee is already using this name" in error["Detail"]
    assert "Id=" not in error["Detail"]
    assert qapi.create("Customer", {"DisplayName": "Weiskopf Consulting"})["Active"] is True


def test_full_update_sets_omitted_writable_fields_to_null(qapi: QboApi) -> None:
    created = make_customer(qapi, "Kate Whelan", GivenName="Kate", Notes="VIP",
                            PrimaryEmailAddr={"Address": "kate@whelan.com"})
    updated = qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "DisplayName": "Kate Whelan",
                                       "FamilyName": "Whelan"})
    assert updated["SyncToken"] == "1"
    assert updated["FamilyName"] == "Whelan"
    assert "GivenName" not in updated and "Notes" not in updated and "PrimaryEmailAddr" not in updated
    assert updated["MetaData"]["CreateTime"] == created["MetaData"]["CreateTime"]


def test_sparse_update_changes_only_sent_fields(qapi: QboApi) -> None:
    created = make_customer(qapi, "Mark Cho", GivenName="Mark", Notes="keep me")
    updated = qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "MiddleName": "Q"})
    assert updated["MiddleName"] == "Q" and updated["Notes"] == "keep me" and updated["GivenName"] == "Mark"
    assert updated["SyncToken"] == "1"


def test_stale_sync_token_is_5010(qapi: QboApi) -> None:
    created = make_customer(qapi, "Travis Waldron")
    qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "first"})
    error = assert_fault(qapi.post("/customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True,
                                                 "Notes": "second"}), "5010")
    assert error["Message"] == "Stale Object Error"
    assert qapi.get(f"/customer/{created['Id']}").json()["Customer"]["Notes"] == "first"


def test_missing_sync_token_on_update_is_2020(qapi: QboApi) -> None:
    created = make_customer(qapi, "No Token")
    error = assert_fault(qapi.post("/customer", {"Id": created["Id"], "sparse": True, "Notes": "x"}), "2020")
    assert error["element"] == "SyncToken"


def test_deactivation_appends_deleted_suffix_and_hides_from_queries(qapi: QboApi) -> None:
    created = make_customer(qapi, "Emily Platt")
    gone = qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert gone["Active"] is False
    assert gone["DisplayName"] == gone["FullyQualifiedName"] == "Emily Platt (deleted)"
    assert gone["PrintOnCheckName"] == "Emily Platt"
    assert qapi.rows("SELECT * FROM Customer", "Customer") == []
    rows = qapi.rows("select * from Customer where Active = false", "Customer")
    assert [r["Id"] for r in rows] == [created["Id"]]
    # The name is free again for a new customer: the inactive one is called "... (deleted)" now.
    assert qapi.create("Customer", {"DisplayName": "Emily Platt"})["Id"] != created["Id"]


def test_reactivation_removes_the_suffix(qapi: QboApi) -> None:
    created = make_customer(qapi, "Pye's Cakes")
    qapi.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    back = qapi.create("Customer", {"Id": created["Id"], "SyncToken": "1", "sparse": True, "Active": True})
    assert back["DisplayName"] == "Pye's Cakes" and back["Active"] is True and back["SyncToken"] == "2"


def test_customer_with_open_balance_cannot_be_deactivated(qapi: QboApi) -> None:
    customer = make_customer(qapi, "Red Rock Diner")
    item = make_item(qapi)
    qapi.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item, 1, 50)]})
    current = qapi.get(f"/customer/{customer['Id']}").json()["Customer"]
    assert current["Balance"] == 50.0 and current["SyncToken"] == "0"
    error = assert_fault(qapi.post("/customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True,
                                                 "Active": False}), "6000")
    assert "open balance" in error["Detail"]


def test_read_errors_2030_610_and_500(qapi: QboApi) -> None:
    error = assert_fault(qapi.get("/customer/1.5"), "2030")
    assert error["Detail"] == "Id should be a valid number. Supplied value:1.5"
    error = assert_fault(qapi.get("/customer/999"), "610")
    assert error["Message"] == "Object Not Found"
    error = assert_fault(qapi.get("/customer/1/5"), "500")
    assert error["Message"] == "Unsupported Operation"
    assert_fault(qapi.get("/Customer/1"), "500")  # URIs are case-sensitive


def test_update_of_unknown_id_is_610(qapi: QboApi) -> None:
    assert_fault(qapi.post("/customer", {"Id": "424242", "SyncToken": "0", "DisplayName": "Ghost"}), "610")


def test_sub_customer_gets_fully_qualified_name_and_level(qapi: QboApi) -> None:
    parent = make_customer(qapi, "Freeman Sporting Goods")
    job = qapi.create("Customer", {"DisplayName": "0969 Ocean View Road", "ParentRef": {"value": parent["Id"]}})
    assert job["Job"] is True and job["Level"] == 1
    assert job["FullyQualifiedName"] == "Freeman Sporting Goods:0969 Ocean View Road"
    assert_fault(qapi.post("/customer", {"DisplayName": "Orphan", "ParentRef": {"value": "777"}}), "2500")


def test_vendor_and_employee_shapes(qapi: QboApi) -> None:
    vendor = qapi.create("Vendor", {"DisplayName": "Norton Lumber", "PrimaryEmailAddr": {"Address": "n@l.com"}})
    assert_entity_shape(vendor)
    assert vendor["Vendor1099"] is False and vendor["Balance"] == 0 and vendor["Active"] is True
    employee = qapi.create("Employee", {"GivenName": "John", "FamilyName": "Johnson"})
    assert_entity_shape(employee)
    assert employee["PrintOnCheckName"] == "John Johnson"
    gone = qapi.create("Employee", {"Id": employee["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert gone["DisplayName"] == "John Johnson (deleted)" and gone["PrintOnCheckName"] == "John Johnson"


def test_items_need_unique_name_type_and_income_account(qapi: QboApi) -> None:
    item = qapi.create("Item", {"Name": "Gardening", "Type": "Service", "IncomeAccountRef": {"value": "1"},
                                "UnitPrice": 25})
    assert_entity_shape(item)
    assert item["IncomeAccountRef"] == {"value": "1", "name": "Services"}
    assert item["FullyQualifiedName"] == "Gardening" and item["Active"] is True
    assert_fault(qapi.post("/item", {"Name": "gardening", "Type": "Service", "IncomeAccountRef": {"value": "1"}}),
                 "6240")
    error = assert_fault(qapi.post("/item", {"Name": "Rocks", "Type": "Service"}), "2020")
    assert error["element"] == "IncomeAccountRef"
    assert_fault(qapi.post("/item", {"Name": "Rocks", "Type": "Service", "IncomeAccountRef": {"value": "99"}}),
                 "2500")
    assert_fault(qapi.post("/item", {"Name": "Ro:cks", "Type": "Service", "IncomeAccountRef": {"value": "1"}}),
                 "2050")
    error = assert_fault(qapi.post("/item", {"Name": "Rocks", "IncomeAccountRef": {"value": "1"}}), "2020")
    assert error["element"] == "Type"
    rocks = qapi.create("Item", {"Name": "Rocks", "Type": "NonInventory", "IncomeAccountRef": {"value": "2"}})
    assert rocks["Type"] == "NonInventory"


def test_accounts_tax_codes_company_info_and_preferences(qapi: QboApi) -> None:
    accounts = qapi.rows("select * from Account where AccountType = 'Income'", "Account")
    assert accounts and all(a["Classification"] == "Revenue" for a in accounts)
    account = qapi.create("Account", {"Name": "Landscaping Income", "AccountType": "Income"})
    assert account["FullyQualifiedName"] == "Landscaping Income" and account["CurrentBalance"] == 0
    codes = {c["Id"]: c for c in qapi.rows("select * from TaxCode", "TaxCode")}
    assert {"TAX", "NON", "2"} <= set(codes)
    rate_id = codes["2"]["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    rate = qapi.get(f"/taxrate/{rate_id}").json()["TaxRate"]
    assert rate["RateValue"] == 8
    assert_fault(qapi.post("/taxcode", {"Name": "New"}), "500")
    info = qapi.get(f"/companyinfo/{qapi.realm_id}").json()["CompanyInfo"]
    assert info["Country"] == "US" and info["Id"] == "1" and info["CompanyName"]
    prefs = qapi.get("/preferences").json()["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    assert prefs["TaxPrefs"]["UsingSalesTax"] is True
    changed = qapi.post("/preferences", {"SyncToken": prefs["SyncToken"], "sparse": True,
                                         "SalesFormsPrefs": {"CustomTxnNumbers": True}}).json()["Preferences"]
    assert changed["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert int(changed["SyncToken"]) == int(prefs["SyncToken"]) + 1
    assert_fault(qapi.post("/preferences", {"SyncToken": prefs["SyncToken"]}), "5010")


def test_malformed_json_body_is_a_fault(qapi: QboApi) -> None:
    resp = requests.post(qapi.base + "/customer", data=b"{not json", headers={
        **qapi.headers(), "Content-Type": "application/json"}, timeout=30)
    assert_fault(resp, "2010")


def test_item_accounts_must_have_the_right_type(qapi: QboApi) -> None:
    receivable = [a for a in qapi.rows("select * from Account", "Account") if a["AccountType"] == "Accounts Receivable"]
    error = assert_fault(qapi.post("/item", {"Name": "Odd", "Type": "Service",
                                            "IncomeAccountRef": {"value": receivable[0]["Id"]}}), "6000")
    assert error["element"] == "IncomeAccountRef"
    cogs = [a for a in qapi.rows("select * from Account", "Account") if a["AccountType"] == "Cost of Goods Sold"]
    item = qapi.create("Item", {"Name": "Mulch", "Type": "NonInventory", "ExpenseAccountRef": {"value": cogs[0]["Id"]}})
    assert item["ExpenseAccountRef"]["name"] == "Cost of Goods Sold"
