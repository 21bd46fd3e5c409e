"""What the QuickBooks company's settings mean for invoices: tax model, tax codes, numbering and currency.

Read once per run (CompanyInfo, Preferences, TaxCode, TaxRate), then used by every payload.

Tax codes (non-US companies): each Synchroteam tax (name, rate) maps to one active QuickBooks TaxCode whose sales
rates add up to the same percentage; among several, the one with the same name wins; a line without tax maps to a
0 % code the same way. The ``tax_codes`` option (``{"<Synchroteam tax name>": "<TaxCode Id>"}``, ``""`` for lines
without tax) overrides the matching. When the match is missing or ambiguous the invoice fails with a message
saying so: guessing a tax code would be an accounting error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stqbo_api.options import QuickBooksOptions
from stqbo_sync.clients import QuickBooksApi
from stqbo_sync.invoice_payload import Numbering, PayloadError, Settings, TaxModel, dec, numbering, tax_rate

log = logging.getLogger(__name__)
PSEUDO_CODES = ("TAX", "NON")


def norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


@dataclass
class TaxCodes:
    """Active QuickBooks tax codes with their total sales rate, and the operator's explicit overrides."""

    codes: list[dict[str, Any]]
    rates: dict[str, Decimal]
    overrides: dict[str, str] = field(default_factory=dict)

    def sales_rate(self, code: dict[str, Any]) -> Decimal | None:
        details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
        found = [self.rates.get(str((d.get("TaxRateRef") or {}).get("value"))) for d in details]
        if not found or any(r is None for r in found):
            return None
        return sum((r for r in found if r is not None), Decimal("0"))

    def candidates(self, rate: Decimal) -> list[dict[str, Any]]:
        return [c for c in self.codes if c.get("Active", True) and str(c.get("Id")) not in PSEUDO_CODES
                and self.sales_rate(c) == rate]

    def match(self, tax: dict[str, Any] | None) -> tuple[str | None, str]:
        """(TaxCode Id or None, why not)."""
        name = str((tax or {}).get("name") or "") if tax_rate(tax) else ""
        if name in self.overrides:
            return str(self.overrides[name]), ""
        rate = tax_rate(tax)
        found = self.candidates(rate)
        if len(found) > 1:
            same_name = [c for c in found if name and norm(c.get("Name")) == norm(name)]
            found = same_name or found
        if len(found) == 1:
            return str(found[0]["Id"]), ""
        label = f"tax '{name}' ({rate.normalize():f} %)" if name else "lines without tax (0 %)"
        if not found:
            return None, f"no active QuickBooks tax code has a sales rate of {rate.normalize():f} % for {label}"
        names = ", ".join(f"{c.get('Name')} (Id {c.get('Id')})" for c in found)
        return None, (f"several QuickBooks tax codes have the rate of {label}: {names}; name one in the "
                      f"tax_codes option of the QuickBooks connection")

    def line_code(self, tax: dict[str, Any] | None) -> str:
        code, why = self.match(tax)
        if code is None:
            raise PayloadError(why, code="tax_code", field="tax")
        return code

    def txn_code(self, tax: dict[str, Any] | None) -> str | None:
        return self.match(tax)[0]


@dataclass
class Company:
    us: bool
    using_sales_tax: bool
    custom_txn_numbers: bool
    home_currency: str | None
    multicurrency: bool
    tax_codes: TaxCodes
    automated_sales_tax: bool = False

    def settings(self, use_st_numbers: bool) -> Settings:
        tax = (TaxModel(us=True, line_code=_us_line_code, txn_code=self.tax_codes.txn_code) if self.us
               else TaxModel(us=False, line_code=self.tax_codes.line_code, txn_code=self.tax_codes.txn_code))
        return Settings(tax=tax, numbering=self.numbering(use_st_numbers), home_currency=self.home_currency,
                        multicurrency=self.multicurrency)

    def numbering(self, use_st_numbers: bool) -> Numbering:
        return numbering(use_st_numbers, self.custom_txn_numbers)

    def notes(self) -> list[str]:
        if self.us and not self.using_sales_tax:
            return ["sales tax is off in QuickBooks: Synchroteam tax is not carried over, totals may differ"]
        if self.us and self.automated_sales_tax:
            return ["QuickBooks computes sales tax itself (Automated Sales Tax): Synchroteam's tax is sent as the "
                    "invoice's total tax; any total that still differs is reported"]
        return []


def _us_line_code(tax: dict[str, Any] | None) -> str:
    return "TAX" if tax_rate(tax) else "NON"


def load(qbo: QuickBooksApi, options: QuickBooksOptions) -> Company:
    info = qbo.get_company_info()
    prefs = qbo.get_preferences()
    country = str(info.get("Country") or "US").upper()
    sales = prefs.get("SalesFormsPrefs") or {}
    tax_prefs = prefs.get("TaxPrefs") or {}
    currency = prefs.get("CurrencyPrefs") or {}
    codes = list(qbo.query("SELECT * FROM TaxCode"))
    rates = {str(r["Id"]): dec(r.get("RateValue")) for r in qbo.query("SELECT * FROM TaxRate")}
    return Company(
        us=country in ("US", "USA"),
        using_sales_tax=bool(tax_prefs.get("UsingSalesTax", True)),
        custom_txn_numbers=bool(sales.get("CustomTxnNumbers", False)),
        home_currency=(currency.get("HomeCurrency") or {}).get("value"),
        multicurrency=bool(currency.get("MultiCurrencyEnabled", False)),
        tax_codes=TaxCodes(codes, rates, overrides=dict(options.tax_codes)),
        automated_sales_tax=bool(tax_prefs.get("PartnerTaxEnabled", False)),
    )

