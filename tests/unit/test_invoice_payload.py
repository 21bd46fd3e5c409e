"""The QuickBooks invoice body built from a Synchroteam invoice: lines, discounts, tax, numbering, identity."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from stqbo_sync import invoice_payload as p
from stqbo_sync import request_ids

ITEMS = {"SVC-HOUR": "11", "PIPE": "12", "": "13"}


def item_for(ref: str, line: dict[str, Any]) -> dict[str, str]:
    return {"value": ITEMS[ref]}


US = p.Settings(tax=p.TaxModel(us=True, line_code=lambda t: "TAX" if p.tax_rate(t) else "NON"),
                numbering=p.numbering(False, False), home_currency="USD")


def st_line(code: str | None, qty: Any, price: Any, discount: Any = 0, rate: Any = None,
            description: str | None = "Labour") -> dict[str, Any]:
    """A line as the Synchroteam simulator renders it (its own totals, half-up)."""
    excl = (Decimal(str(qty)) * Decimal(str(price)) * (1 - Decimal(str(discount)) / 100)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    tax = (excl * Decimal(str(rate or 0)) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {"partProductCode": code, "description": description, "quantity": qty, "unitPrice": price,
            "discount": discount, "tax": None if rate is None else {"name": "NY", "rate": rate},
            "totalExclTax": float(excl), "totalTax": float(tax), "total": float(excl + tax)}


def st_invoice(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    excl = sum(Decimal(str(ln["totalExclTax"])) for ln in lines)
    tax = sum(Decimal(str(ln["totalTax"])) for ln in lines)
    return {"id": 88123, "num": 1042, "status": "sent", "customer": {"id": 5, "name": "ACME"}, "currency": "USD",
            "dateCreated": "2026-05-02 09:10", "dateDue": "2026-06-01", "description": "Boiler service",
            "lines": list(lines), "totalExclTax": float(excl), "totalTax": float(tax), "total": float(excl + tax),
            **extra}


def qbo_amount(line: dict[str, Any]) -> Decimal:
    """What QuickBooks checks: Amount == round(Qty * UnitPrice, 2)."""
    d = line["SalesItemLineDetail"]
    return p.money(Decimal(str(d["Qty"])) * Decimal(str(d["UnitPrice"])))


@pytest.mark.parametrize(
    ("qty", "price", "discount", "amount"),
    [
        pytest.param(2, 85.0, 0, "170.00", id="plain"),
        pytest.param(2, 85.0, 10, "153.00", id="ten-percent"),
        pytest.param(3, 19.99, 15, "50.97", id="odd-cents"),
        pytest.param(4.5, 22.5, 0, "101.25", id="fractional-qty"),
        pytest.param(1, 0.005, 0, "0.01", id="half-cent-rounds-up"),
        pytest.param(1, 100, 100, "0.00", id="free"),
    ],
)
def test_line_amount_equals_synchroteam_line_total(qty: Any, price: Any, discount: Any, amount: str) -> None:
    line = st_line("SVC-HOUR", qty, price, discount)
    out = p.sales_line(line, {"value": "11"}, US.tax)
    assert Decimal(str(out["Amount"])) == Decimal(amount) == Decimal(str(line["totalExclTax"]))
    assert qbo_amount(out) == Decimal(str(out["Amount"]))


@given(qty=hs.decimals("0", "500", places=2), price=hs.decimals("0", "5000", places=2),
       discount=hs.decimals("0", "100", places=2))
def test_discount_folded_into_unit_price_keeps_quickbooks_rule(qty: Decimal, price: Decimal, discount: Decimal) -> None:
    line = st_line("PIPE", str(qty), str(price), str(discount))
    out = p.sales_line(line, {"value": "12"}, US.tax)
    assert Decimal(str(out["Amount"])) == Decimal(str(line["totalExclTax"]))
    if "Qty" in out["SalesItemLineDetail"]:
        assert qbo_amount(out) == Decimal(str(out["Amount"]))


def test_discounted_line_says_list_price_and_discount() -> None:
    out = p.sales_line(st_line("SVC-HOUR", 2, 85, 10), {"value": "11"}, US.tax)
    assert out["Description"] == "Labour (list price 85.00, discount 10%)"
    assert out["SalesItemLineDetail"]["UnitPrice"] == 76.5


def test_description_only_line_and_priced_line_without_part() -> None:
    inv = st_invoice(st_line("SVC-HOUR", 1, 50), st_line(None, 0, 0, description="Work done on site"),
                     st_line(None, 1, 25, description="Travel"))
    lines = p.build_invoice(inv, "7", item_for, US)["Line"]
    assert [ln["DetailType"] for ln in lines] == ["SalesItemLineDetail", "DescriptionOnly", "SalesItemLineDetail"]
    assert lines[1] == {"DetailType": "DescriptionOnly", "Description": "Work done on site", "DescriptionLineDetail": {}}
    assert lines[2]["SalesItemLineDetail"]["ItemRef"] == {"value": "13"}


def test_us_tax_per_line_and_total_tax_from_synchroteam() -> None:
    inv = st_invoice(st_line("SVC-HOUR", 2, 85, rate=8.875), st_line("PIPE", 3, 12.5))
    body = p.build_invoice(inv, "7", item_for, US)
    codes = [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in body["Line"]]
    assert codes == ["TAX", "NON"]
    assert body["TxnTaxDetail"] == {"TotalTax": 15.09}
    assert "GlobalTaxCalculation" not in body
    lines_total = sum(Decimal(str(ln["Amount"])) for ln in body["Line"])
    assert lines_total + Decimal("15.09") == Decimal(str(inv["total"]))


def test_us_tax_names_a_txn_tax_code_when_one_rate_matches() -> None:
    tax = p.TaxModel(us=True, line_code=lambda t: "TAX" if p.tax_rate(t) else "NON",
                     txn_code=lambda t: "3" if p.tax_rate(t) == Decimal("8.875") else None)
    settings = p.Settings(tax=tax, numbering=p.numbering(False, False))
    body = p.build_invoice(st_invoice(st_line("SVC-HOUR", 2, 85, rate=8.875)), "7", item_for, settings)
    assert body["TxnTaxDetail"]["TxnTaxCodeRef"] == {"value": "3"}


def test_non_us_tax_code_per_line_and_global_tax_calculation() -> None:
    codes = {Decimal("20"): "5", Decimal("0"): "9"}
    tax = p.TaxModel(us=False, line_code=lambda t: codes[p.tax_rate(t)])
    settings = p.Settings(tax=tax, numbering=p.numbering(False, False))
    body = p.build_invoice(st_invoice(st_line("SVC-HOUR", 1, 100, rate=20), st_line("PIPE", 1, 10)), "7",
                           item_for, settings)
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in body["Line"]] == ["5", "9"]
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    assert "TxnTaxDetail" not in body


@pytest.mark.parametrize(
    ("use", "custom", "sends", "noted"),
    [
        pytest.param(True, True, True, False, id="option-on-custom-on"),
        pytest.param(True, False, False, True, id="option-on-custom-off"),
        pytest.param(False, False, False, False, id="option-off-custom-off"),
        pytest.param(False, True, False, True, id="option-off-custom-on"),
    ],
)
def test_numbering(use: bool, custom: bool, sends: bool, noted: bool) -> None:
    n = p.numbering(use, custom)
    assert (n.send_st_number, n.note is not None) == (sends, noted)
    body = p.build_invoice(st_invoice(st_line("PIPE", 1, 1)), "7", item_for,
                           p.Settings(tax=US.tax, numbering=n))
    assert body.get("DocNumber") == ("1042" if sends else None)


def test_docnumber_longer_than_21_is_refused() -> None:
    with pytest.raises(p.PayloadError, match="21"):
        p.doc_number({"num": "1" * 22})


@pytest.mark.parametrize(
    ("invoice", "skipped"),
    [
        pytest.param({"status": "draft", "num": None}, True, id="draft"),
        pytest.param({"status": "new", "num": None}, True, id="no-number"),
        pytest.param({"status": "new", "num": 7}, False, id="new"),
        pytest.param({"status": "paid", "num": 7}, False, id="paid"),
        pytest.param({"status": "cancelled", "num": 7}, True, id="unknown-status"),
    ],
)
def test_skip_reason(invoice: dict[str, Any], skipped: bool) -> None:
    assert (p.skip_reason(invoice) is not None) == skipped


def test_header_fields() -> None:
    body = p.build_invoice(st_invoice(st_line("PIPE", 1, 1)), "7", item_for, US)
    assert body["CustomerRef"] == {"value": "7"}
    assert (body["TxnDate"], body["DueDate"]) == ("2026-05-02", "2026-06-01")
    assert body["CustomerMemo"] == {"value": "Boiler service"}


def test_foreign_currency_without_multicurrency_is_an_error() -> None:
    with pytest.raises(p.PayloadError, match="EUR"):
        p.build_invoice(st_invoice(st_line("PIPE", 1, 1), currency="EUR"), "7", item_for, US)


def test_fingerprint_changes_with_content_only() -> None:
    a = p.build_invoice(st_invoice(st_line("PIPE", 1, 1)), "7", item_for, US)
    b = p.build_invoice(st_invoice(st_line("PIPE", 1, 1)), "7", item_for, US)
    c = p.build_invoice(st_invoice(st_line("PIPE", 2, 1)), "7", item_for, US)
    assert p.fingerprint(a) == p.fingerprint(b) != p.fingerprint(c)


def test_marker_round_trip() -> None:
    note = p.marker({"id": 88123, "num": 1042}, "0123456789abcdef")
    assert note == "Synchroteam invoice 88123 (#1042) v:0123456789abcdef"
    assert p.marker_st_id(note) == 88123
    assert p.marker_version(note) == "0123456789abcdef"
    assert p.marker_st_id("Voided - " + note) == 88123
    assert p.marker_st_id("typed by a person") is None


def test_marker_names_the_synchroteam_account() -> None:
    note = p.marker({"id": 88123, "num": 1042}, "0123456789abcdef", "acme")
    assert note == "Synchroteam invoice 88123 (#1042) from acme v:0123456789abcdef"
    assert p.marker_st_id(note, "acme") == p.marker_st_id(note, "ACME") == p.marker_st_id(note) == 88123
    assert p.marker_st_id(note, "other-account") is None, "another account's invoice 88123 is not ours"
    assert p.marker_version(note) == "0123456789abcdef"
    assert p.marker_st_id(p.marker({"id": 5, "num": None}, "0123456789abcdef", "acme"), "acme") == 5


def test_request_ids_stable_per_write_and_within_limits() -> None:
    rid = request_ids.invoice_write("demo|9341|1", 88123, "0123456789abcdef", "c")
    assert rid == request_ids.invoice_write("demo|9341|1", 88123, "0123456789abcdef", "c")
    assert rid != request_ids.invoice_write("demo|9341|1", 88123, "fedcba9876543210", "c")
    assert rid != request_ids.invoice_write("demo|9341|2", 88123, "0123456789abcdef", "c")
    assert len(request_ids.invoice_write("x" * 200, 10**15, "f" * 16, "u123456789")) <= 50
    prefix = request_ids.batch_prefix("demo|9341|1", [(1, "a"), (2, "b")])
    assert prefix == request_ids.batch_prefix("demo|9341|1", [(2, "b"), (1, "a")])
    assert len(prefix + "-0") <= 36


@pytest.mark.parametrize(
    ("obj", "held"),
    [
        pytest.param({"TotalAmt": 100.0, "Balance": 100.0, "LinkedTxn": []}, False, id="open"),
        pytest.param({"TotalAmt": 100.0, "Balance": 40.0}, True, id="part-paid"),
        pytest.param({"TotalAmt": 100.0, "Balance": 0}, True, id="paid"),
        pytest.param({"TotalAmt": 100.0, "Balance": 100.0, "LinkedTxn": [{"TxnId": "3", "TxnType": "Payment"}]},
                     True, id="linked-payment"),
    ],
)
def test_payment_held(obj: dict[str, Any], held: bool) -> None:
    assert p.payment_held(obj) is held


def test_totals_differ_only_beyond_one_cent() -> None:
    assert not p.totals_differ(185.09, 185.10)
    assert p.totals_differ(185.09, 185.11)


def test_voided_invoice_is_recognised() -> None:
    assert p.voided({"PrivateNote": "Voided - Synchroteam invoice 1 v:abcdef01", "TotalAmt": 0})
    assert not p.voided({"PrivateNote": "Synchroteam invoice 1 v:abcdef01", "TotalAmt": 0})
    assert not p.voided({"PrivateNote": "Voided by mistake? no", "TotalAmt": 10})
