"""Company settings for invoices: the tax model, Synchroteam tax rate -> QuickBooks TaxCode, numbering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stqbo_api.options import QuickBooksOptions
from stqbo_sync.invoice_company import TaxCodes, load
from stqbo_sync.invoice_payload import PayloadError

RATES = {"1": Decimal("20"), "2": Decimal("5"), "3": Decimal("0"), "4": Decimal("20")}


def code(code_id: str, name: str, *rates: str, active: bool = True) -> dict[str, Any]:
    return {"Id": code_id, "Name": name, "Active": active,
            "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": r}} for r in rates]}}


UK = [code("10", "20.0% S", "1"), code("11", "5.0% R", "2"), code("12", "0.0% Z", "3"),
      code("13", "Purchases only"), code("14", "Old 20%", "4", active=False)]


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        pytest.param({"name": "VAT", "rate": 20}, "10", id="unique-rate"),
        pytest.param({"name": "Reduced", "rate": 5.0}, "11", id="float-rate"),
        pytest.param(None, "12", id="no-tax-zero-code"),
        pytest.param({"name": "none", "rate": 0}, "12", id="zero-rate"),
    ],
)
def test_rate_maps_to_the_one_code_with_that_sales_rate(tax: dict[str, Any] | None, expected: str) -> None:
    assert TaxCodes(UK, RATES).line_code(tax) == expected


def test_same_rate_twice_is_decided_by_name_or_refused() -> None:
    codes = [*UK, code("15", "VAT", "4")]
    assert TaxCodes(codes, RATES).line_code({"name": "vat", "rate": 20}) == "15"
    with pytest.raises(PayloadError, match="several QuickBooks tax codes"):
        TaxCodes(codes, RATES).line_code({"name": "Standard", "rate": 20})


def test_override_wins_and_missing_rate_is_refused() -> None:
    assert TaxCodes(UK, RATES, overrides={"Standard": "14"}).line_code({"name": "Standard", "rate": 20}) == "14"
    with pytest.raises(PayloadError, match="no active QuickBooks tax code has a sales rate of 7.5"):
        TaxCodes(UK, RATES).line_code({"name": "Odd", "rate": 7.5})
    assert TaxCodes(UK, RATES).txn_code({"name": "Odd", "rate": 7.5}) is None


class FakeQbo:
    def __init__(self, country: str, custom: bool) -> None:
        self.country, self.custom = country, custom

    def get_company_info(self) -> dict[str, Any]:
        return {"Country": self.country}

    def get_preferences(self) -> dict[str, Any]:
        return {"SalesFormsPrefs": {"CustomTxnNumbers": self.custom}, "TaxPrefs": {"UsingSalesTax": True},
                "CurrencyPrefs": {"HomeCurrency": {"value": "GBP"}, "MultiCurrencyEnabled": False}}

    def query(self, statement: str) -> list[dict[str, Any]]:
        if "TaxRate" in statement:
            return [{"Id": k, "RateValue": str(v)} for k, v in RATES.items()]
        return UK


def test_load_reads_the_tax_model_numbering_and_currency() -> None:
    company = load(FakeQbo("GB", custom=False), QuickBooksOptions.from_extra({"tax_codes": '{"VAT": "11"}'}))
    settings = company.settings(use_st_numbers=True)
    assert not settings.tax.us and settings.home_currency == "GBP"
    assert settings.tax.line_code({"name": "VAT", "rate": 20}) == "11"
    assert not settings.numbering.send_st_number and "custom transaction numbers are off" in str(
        settings.numbering.note)
    us = load(FakeQbo("US", custom=True), QuickBooksOptions()).settings(use_st_numbers=True)
    assert us.tax.us and us.tax.line_code({"name": "NY", "rate": 8}) == "TAX" and us.tax.line_code(None) == "NON"
    assert us.numbering.send_st_number
