"""QuickBooks simulator: invoices (lines, tax models, numbering, totals, delete, void, payments)."""

from __future__ import annotations

from typing import Any

import pytest
from test_qbo_sim_support import (
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


@pytest.fixture()
def shop(qapi: QboApi) -> dict[str, Any]:
    customer = make_customer(qapi, "Amy's Bird Sanctuary", PrimaryEmailAddr={"Address": "Birds@Intuit.com"},
                             BillAddr={"Line1": "4581 Finch St.", "City": "Bayshore", "CountrySubDivisionCode": "CA"})
    return {"api": qapi, "customer": customer["Id"], "hours": make_item(qapi, "Hours"),
            "rocks": make_item(qapi, "Rocks", taxable=True)}


def invoice(shop: dict[str, Any], lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"CustomerRef": {"value": shop["customer"]}, "Line": lines, **fields}


def test_minimal_invoice_gets_what_the_server_adds(shop: dict[str, Any]) -> None:
    api = shop["api"]
    resp = api.post("/invoice", {"Line": [{"Amount": 100.0, "DetailType": "SalesItemLineDetail",
                                           "SalesItemLineDetail": {"ItemRef": {"value": shop["hours"]}}}],
                                 "CustomerRef": {"value": shop["customer"]}, "PrivateNote": "Synchroteam invoice 42"})
    assert resp.status_code == 200, resp.text
    inv = resp.json()["Invoice"]
    assert_entity_shape(inv)
    assert inv["CustomerRef"] == {"value": shop["customer"], "name": "Amy's Bird Sanctuary"}
    first, subtotal = inv["Line"]
    assert first["Id"] == "1" and first["LineNum"] == 1 and first["Amount"] == 100.0
    assert first["SalesItemLineDetail"]["ItemRef"] == {"value": shop["hours"], "name": "Hours"}
    assert first["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    assert subtotal == {"Amount": 100.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert inv["TotalAmt"] == inv["Balance"] == 100.0
    assert inv["TxnTaxDetail"]["TotalTax"] == 0
    assert inv["DocNumber"] == "1001"
    assert len(inv["TxnDate"]) == 10 and inv["DueDate"] > inv["TxnDate"]
    assert inv["BillAddr"]["Line1"] == "4581 Finch St." and inv["BillEmail"] == {"Address": "Birds@Intuit.com"}
    assert inv["PrivateNote"] == "Synchroteam invoice 42"
    assert inv["LinkedTxn"] == [] and inv["AllowOnlinePayment"] is False
    assert inv["CurrencyRef"]["value"] == "USD"
    customer = api.get(f"/customer/{shop['customer']}").json()["Customer"]
    assert customer["Balance"] == 100.0


def test_amount_must_equal_qty_times_unit_price_6070(shop: dict[str, Any]) -> None:
    api = shop["api"]
    error = assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 3, 33.33, amount=100.0)])), "6070")
    assert error["Detail"].startswith("Amount is not equal to Qty * UnitPrice. Supplied value:")
    ok = api.create("Invoice", invoice(shop, [line(shop["hours"], 4.5, 22.5)]))
    assert ok["Line"][0]["Amount"] == 101.25 and ok["Line"][0]["SalesItemLineDetail"]["Qty"] == 4.5


def test_required_fields_2020(shop: dict[str, Any]) -> None:
    api = shop["api"]
    error = assert_fault(api.post("/invoice", {"Line": [line(shop["hours"], 1, 10)]}), "2020")
    assert error["element"] == "CustomerRef"
    error = assert_fault(api.post("/invoice", invoice(shop, [])), "2020")
    assert error["element"] == "Line"
    no_amount = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": shop["hours"]}}}
    assert assert_fault(api.post("/invoice", invoice(shop, [no_amount])), "2020")["element"] == "Line.Amount"


def test_invalid_references_2500(shop: dict[str, Any]) -> None:
    api = shop["api"]
    error = assert_fault(api.post("/invoice", invoice(shop, [line("999", 1, 10)])), "2500")
    assert error["Message"] == "Invalid Reference Id"
    assert_fault(api.post("/invoice", {"CustomerRef": {"value": "999"}, "Line": [line(shop["hours"], 1, 10)]}), "2500")
    api.create("Customer", {"Id": shop["customer"], "SyncToken": "0", "sparse": True, "Active": False})
    assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 10)])), "2500")


def test_us_line_tax_codes_must_be_tax_or_non_6100(shop: dict[str, Any]) -> None:
    error = assert_fault(shop["api"].post("/invoice", invoice(shop, [line(shop["hours"], 1, 10, tax="2")])), "6100")
    assert error["Detail"] == "Valid Line TaxCodes for US should be TAX or NON"


def test_us_tax_is_computed_from_the_default_rate(shop: dict[str, Any]) -> None:
    inv = shop["api"].create("Invoice", invoice(shop, [line(shop["rocks"], 10, 32.575, tax="TAX"),
                                                       line(shop["hours"], 2, 50, tax="NON")]))
    detail = inv["TxnTaxDetail"]
    assert detail["TxnTaxCodeRef"] == {"value": "2"}
    assert detail["TotalTax"] == 26.06  # 8% of 325.75, rounded half-up
    tax_line = detail["TaxLine"][0]
    assert tax_line["DetailType"] == "TaxLineDetail"
    assert tax_line["TaxLineDetail"]["NetAmountTaxable"] == 325.75 and tax_line["TaxLineDetail"]["TaxPercent"] == 8
    assert inv["TotalAmt"] == round(325.75 + 100 + 26.06, 2) == inv["Balance"]


def test_client_total_tax_overrides_the_computation(shop: dict[str, Any]) -> None:
    inv = shop["api"].create("Invoice", invoice(shop, [line(shop["rocks"], 1, 100, tax="TAX")],
                                                TxnTaxDetail={"TotalTax": 7.25}))
    assert inv["TxnTaxDetail"]["TotalTax"] == 7.25 and inv["TotalAmt"] == 107.25


def test_bad_transaction_tax_code_is_2500(shop: dict[str, Any]) -> None:
    body = invoice(shop, [line(shop["rocks"], 1, 100, tax="TAX")], TxnTaxDetail={"TxnTaxCodeRef": {"value": "77"}})
    assert_fault(shop["api"].post("/invoice", body), "2500")


def test_discount_lines_and_apply_tax_after_discount(shop: dict[str, Any]) -> None:
    api = shop["api"]
    discount = {"Amount": 10, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": False}}
    inv = api.create("Invoice", invoice(shop, [line(shop["rocks"], 1, 100, tax="TAX"), discount]))
    kinds = [ln["DetailType"] for ln in inv["Line"]]
    assert kinds == ["SalesItemLineDetail", "SubTotalLineDetail", "DiscountLineDetail"]
    assert inv["TxnTaxDetail"]["TotalTax"] == 8.0 and inv["TotalAmt"] == 98.0
    percent = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}
    inv = api.create("Invoice", invoice(shop, [line(shop["rocks"], 1, 100, tax="TAX"), percent],
                                        ApplyTaxAfterDiscount=True))
    assert inv["Line"][-1]["Amount"] == 10.0
    assert inv["TxnTaxDetail"]["TotalTax"] == 7.2 and inv["TotalAmt"] == 97.2


def test_description_only_lines_are_kept(shop: dict[str, Any]) -> None:
    note = {"DetailType": "DescriptionOnly", "Description": "Work done on site", "DescriptionLineDetail": {}}
    inv = shop["api"].create("Invoice", invoice(shop, [line(shop["hours"], 1, 10), note]))
    assert inv["Line"][1]["Description"] == "Work done on site" and inv["Line"][1]["LineNum"] == 2
    assert inv["TotalAmt"] == 10.0


def test_doc_numbers_auto_increment_and_continue_after_a_prefix(shop: dict[str, Any]) -> None:
    api = shop["api"]
    first = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))
    second = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))
    assert (first["DocNumber"], second["DocNumber"]) == ("1001", "1002")
    api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="App_1000"))
    assert api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))["DocNumber"] == "App_1001"


def test_custom_txn_numbers_leave_doc_number_empty(shop: dict[str, Any]) -> None:
    api = shop["api"]
    api.admin("PATCH", "/_sim/preferences", json={"SalesFormsPrefs": {"CustomTxnNumbers": True}})
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))
    assert "DocNumber" not in inv
    assert api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="ST-2041"))["DocNumber"] == "ST-2041"


def test_duplicate_doc_number_is_6140_unless_allowed(shop: dict[str, Any]) -> None:
    api = shop["api"]
    first = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="1234"))
    error = assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="1234")), "6140")
    assert f"DocNumber=1234 is assigned to TxnType=Invoice with TxnId={first['Id']}" in error["Detail"]
    dup = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="1234"),
                     include="allowduplicatedocnum")
    assert dup["DocNumber"] == "1234"


def test_doc_number_longer_than_21_is_2050(shop: dict[str, Any]) -> None:
    error = assert_fault(shop["api"].post("/invoice", invoice(shop, [line(shop["hours"], 1, 10)], DocNumber="X" * 22)),
                         "2050")
    assert error["element"] == "DocNumber" and "Max:21" in error["Detail"]


def test_sparse_update_recomputes_and_keeps_lines(shop: dict[str, Any]) -> None:
    api = shop["api"]
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 2, 50)]))
    noted = api.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "hello"})
    assert noted["Line"] == inv["Line"] and noted["TotalAmt"] == 100.0 and noted["SyncToken"] == "1"
    relined = api.create("Invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True,
                                     "Line": [line(shop["hours"], 3, 50)]})
    assert relined["TotalAmt"] == 150.0 and relined["PrivateNote"] == "hello"
    assert_fault(api.post("/invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True, "PrivateNote": "x"}), "5010")


def test_delete_invoice(shop: dict[str, Any]) -> None:
    api = shop["api"]
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))
    assert_fault(api.post("/invoice", {"Id": inv["Id"], "SyncToken": "5"}, operation="delete"), "5010")
    resp = api.post("/invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="delete")
    assert resp.status_code == 200, resp.text
    assert resp.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": inv["Id"]}
    assert_fault(api.get(f"/invoice/{inv['Id']}"), "610")
    assert api.get(f"/customer/{shop['customer']}").json()["Customer"]["Balance"] == 0
    assert_fault(api.post("/customer", {"Id": shop["customer"], "SyncToken": "0"}, operation="delete"), "500")


def test_void_invoice(shop: dict[str, Any]) -> None:
    api = shop["api"]
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], PrivateNote="Synchroteam invoice 7"))
    voided = api.create("Invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void")
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["SyncToken"] == "1"
    assert voided["PrivateNote"] == "Voided"  # the note it had is gone
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["TotalAmt"] == 0


def test_ui_payment_lowers_balance_and_links_a_payment(shop: dict[str, Any]) -> None:
    api = shop["api"]
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 80)]))
    resp = api.admin("PATCH", f"/_sim/Invoice/{inv['Id']}", json={"Balance": 30})
    assert resp.status_code == 200, resp.text
    paid = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert paid["Balance"] == 30.0 and paid["TotalAmt"] == 80.0 and paid["SyncToken"] == "1"
    assert paid["LinkedTxn"][0]["TxnType"] == "Payment" and paid["LinkedTxn"][0]["TxnId"]
    relined = api.create("Invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True,
                                     "Line": [line(shop["hours"], 1, 100)]})
    assert relined["TotalAmt"] == 100.0 and relined["Balance"] == 50.0
    assert api.get(f"/customer/{shop['customer']}").json()["Customer"]["Balance"] == 50.0


def test_invoices_are_queryable_by_customer_docnumber_date_and_update_time(shop: dict[str, Any]) -> None:
    api = shop["api"]
    other = make_customer(api, "Cool Cars")["Id"]
    a = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], TxnDate="2026-01-15"))
    b = api.create("Invoice", {"CustomerRef": {"value": other}, "Line": [line(shop["hours"], 1, 20)]})
    ids = [r["Id"] for r in api.rows(f"select * from Invoice where CustomerRef = '{shop['customer']}'", "Invoice")]
    assert ids == [a["Id"]]
    assert [r["Id"] for r in api.rows(f"select * from Invoice where DocNumber = '{b['DocNumber']}'", "Invoice")] == [b["Id"]]
    assert [r["Id"] for r in api.rows("select * from Invoice where TxnDate < '2026-02-01'", "Invoice")] == [a["Id"]]
    since = b["MetaData"]["LastUpdatedTime"]
    rows = api.rows(f"select * from Invoice where MetaData.LastUpdatedTime >= '{since}'", "Invoice")
    assert b["Id"] in [r["Id"] for r in rows]
    assert api.rows(f"select * from Invoice where Id = '{a['Id']}'", "Invoice")[0]["TotalAmt"] == 10.0


def test_non_us_tax_model(shop: dict[str, Any]) -> None:
    api = shop["api"]
    resp = api.admin("PATCH", "/_sim/preferences", json={"simulator": {"country": "GB"}})
    assert resp.json()["simulator"]["country"] == "GB"
    api.seed({"TaxRate": [{"Id": "20", "Name": "VAT 20%", "RateValue": 20}],
              "TaxCode": [{"Id": "30", "Name": "20.0% S", "SalesTaxRateList": {"TaxRateDetail": [
                  {"TaxRateRef": {"value": "20"}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]}}]})
    error = assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 100, tax="30")])), "2020")
    assert error["element"] == "GlobalTaxCalculation"
    assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 100)],
                                              GlobalTaxCalculation="TaxExcluded")), "2020")
    assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 100, tax="TAX")],
                                              GlobalTaxCalculation="TaxExcluded")), "2500")
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 100, tax="30"), line(shop["rocks"], 2, 5, tax="30")],
                                        GlobalTaxCalculation="TaxExcluded", TxnTaxDetail={"TotalTax": 1}))
    assert inv["GlobalTaxCalculation"] == "TaxExcluded"
    assert inv["TxnTaxDetail"]["TotalTax"] == 22.0  # computed by QuickBooks, the client's value ignored
    assert inv["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxRateRef"] == {"value": "20"}
    assert inv["TotalAmt"] == 132.0
    assert inv["CurrencyRef"]["value"] == "GBP"
    free = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 100, tax="30")],
                                         GlobalTaxCalculation="NotApplicable"))
    assert free["TotalAmt"] == 100.0


def test_us_company_ignores_global_tax_calculation(shop: dict[str, Any]) -> None:
    inv = shop["api"].create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)], GlobalTaxCalculation="TaxExcluded"))
    assert "GlobalTaxCalculation" not in inv


def test_python_quickbooks_style_invoice_body(shop: dict[str, Any]) -> None:
    """python-quickbooks sends Qty/UnitPrice 0, empty strings, GlobalTaxCalculation and read-only fields."""
    body = {"Deposit": 0, "Balance": 0, "AllowIPNPayment": True, "DocNumber": "", "PrivateNote": "", "TxnDate": "",
            "DueDate": "", "ShipDate": "", "TrackingNum": "", "TotalAmt": "", "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet", "EmailStatus": "NotSet", "ExchangeRate": 1, "GlobalTaxCalculation": "TaxExcluded",
            "CustomField": [], "LinkedTxn": [], "SyncToken": 0, "sparse": False, "domain": "QBO",
            "CustomerRef": {"value": shop["customer"]},
            "Line": [{"LineNum": 0, "Amount": 100, "DetailType": "SalesItemLineDetail", "LinkedTxn": [],
                      "CustomField": [], "SalesItemLineDetail": {"UnitPrice": 0, "Qty": 0, "ServiceDate": "",
                                                                 "ItemRef": {"value": shop["hours"]}}}]}
    inv = shop["api"].create("Invoice", body)
    assert inv["TotalAmt"] == 100.0 and inv["Balance"] == 100.0 and inv["DocNumber"] == "1001"
    assert inv["AllowIPNPayment"] is True and "ShipDate" not in inv


def test_limits_on_lines_and_custom_fields(shop: dict[str, Any]) -> None:
    api = shop["api"]
    many = [line(shop["rocks"], 1, 1, tax="TAX") for _ in range(751)]
    assert_fault(api.post("/invoice", invoice(shop, many)), "6000")
    fields = [{"DefinitionId": str(i), "Name": f"F{i}", "Type": "StringType", "StringValue": "x"} for i in range(4)]
    assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 1, 1)], CustomField=fields)), "6000")


def test_non_numeric_amount_is_2010(shop: dict[str, Any]) -> None:
    bad = line(shop["hours"], 1, 1)
    bad["Amount"] = "ten dollars"
    assert_fault(shop["api"].post("/invoice", invoice(shop, [bad])), "2010")


def test_customer_rename_shows_in_invoice_references(shop: dict[str, Any]) -> None:
    api = shop["api"]
    inv = api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))
    api.create("Customer", {"Id": shop["customer"], "SyncToken": "0", "sparse": True,
                            "DisplayName": "Amy's Bird Sanctuary Inc"})
    again = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert again["CustomerRef"]["name"] == "Amy's Bird Sanctuary Inc"
    assert again["SyncToken"] == "0" and again["MetaData"] == inv["MetaData"]


def test_a_rejected_invoice_does_not_use_up_a_number(shop: dict[str, Any]) -> None:
    api = shop["api"]
    assert_fault(api.post("/invoice", invoice(shop, [line(shop["hours"], 3, 33.33, amount=100.0)])), "6070")
    assert api.create("Invoice", invoice(shop, [line(shop["hours"], 1, 10)]))["DocNumber"] == "1001"
