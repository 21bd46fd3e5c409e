"""A Synchroteam invoice as the QuickBooks Invoice body to write: lines, tax, numbering, marker and fingerprint.

Pure functions (no I/O): items and tax codes come in through small resolvers, so the maths can be tested on its own.

Money: Synchroteam computes each line as ``round(quantity * unitPrice * (1 - discount/100), 2)`` and its tax per
line, half-up. QuickBooks requires ``Amount == round(Qty * UnitPrice, 2)``. A per-line percentage discount is
therefore folded into the line's unit price (``UnitPrice = unitPrice * (1 - discount/100)``, exact in decimal), so
each QuickBooks line amount equals Synchroteam's line total to the cent and tax is computed on the same amounts;
the line description says which list price and discount were applied. (Not a separate discount line: a QuickBooks
discount line is spread over every line in proportion, which cannot reproduce per-line discounts at different tax
rates, so totals would not match to the cent for non-US companies.)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from stqbo_api.options import DEFAULT_INVOICE_STATUSES

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_DOCNUMBER = 21
MAX_MEMO = 1000
MAX_DESCRIPTION = 4000
MAX_PRICE_DECIMALS = 7          # UNCONFIRMED: the precision QuickBooks keeps for UnitPrice
MARKER_RE = re.compile(r"Synchroteam invoice (\d+)\b(?: \(#[^)]*\))?(?: from (\S+))?")
VERSION_RE = re.compile(r"\bv:([0-9a-f]{8,})\b")
DEFAULT_STATUSES = DEFAULT_INVOICE_STATUSES     # pushed unless the invoice_statuses option says otherwise
DRY_RUN_ITEM = "0"      # the ItemRef of an item a dry run would create (QuickBooks ids start at 1)


class PayloadError(ValueError):
    """The invoice cannot be expressed in QuickBooks as it stands (a per-record problem, reported by name)."""

    def __init__(self, message: str, code: str = "payload", field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def money(value: Any) -> Decimal:
    """Half-up to cents, as both products print amounts."""
    return dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"'{value}' is not a number") from None


def number(value: Decimal) -> int | float:
    """A JSON number: integral values as integers, others as the shortest float that round-trips the decimal."""
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


# ----------------------------------------------------------------------------------------------- eligibility


def status_key(status: Any) -> str:
    """A status as a comparable key: "Partially Paid", "partially_paid" and "partially-paid" are one status."""
    return re.sub(r"[^a-z0-9]", "", str(status or "").casefold())


def eligible_keys(statuses: Sequence[str] = DEFAULT_STATUSES) -> frozenset[str]:
    return frozenset(status_key(s) for s in statuses)


def skip_reason(invoice: dict[str, Any], eligible: frozenset[str] = eligible_keys()) -> str | None:
    """Why an invoice is not pushed (None: eligible). Drafts have no number until they become New; any other
    status not in the eligible list (Synchroteam's statuses beyond new/sent/paid/late are not all known) is
    named, so nobody wonders why an invoice never reached QuickBooks."""
    status = str(invoice.get("status") or "")
    if status_key(status) == "draft" or invoice.get("num") in (None, ""):
        return "draft: no Synchroteam number yet (pushed once it is numbered)"
    if status_key(status) not in eligible:
        return f"not pushed: unknown status '{status}' (add it to the invoice_statuses option to push it)"
    return None


def unknown_status(invoice: dict[str, Any], eligible: frozenset[str] = eligible_keys()) -> str | None:
    """The status that keeps a numbered invoice from being pushed, if that is why."""
    reason = skip_reason(invoice, eligible)
    return str(invoice.get("status") or "") if reason and reason.startswith("not pushed") else None


def st_number(invoice: dict[str, Any]) -> str | None:
    num = invoice.get("num")
    return None if num in (None, "") else str(num)


# ----------------------------------------------------------------------------------------------- numbering


@dataclass(frozen=True)
class Numbering:
    """Whether DocNumber is sent, and the run note explaining a setting that changes the outcome."""

    send_st_number: bool
    note: str | None


def numbering(use_st_numbers: bool, custom_txn_numbers: bool) -> Numbering:
    if use_st_numbers and custom_txn_numbers:
        return Numbering(True, None)
    if use_st_numbers:
        return Numbering(False, "use_synchroteam_invoice_numbers is on, but custom transaction numbers are off in "
                                "QuickBooks (Account and settings > Sales > Custom transaction numbers): QuickBooks "
                                "numbered the invoices itself")
    if custom_txn_numbers:
        return Numbering(False, "custom transaction numbers are on in QuickBooks but use_synchroteam_invoice_numbers "
                                "is off: QuickBooks leaves the invoice number (DocNumber) empty")
    return Numbering(False, None)


def doc_number(invoice: dict[str, Any]) -> str:
    num = st_number(invoice) or ""
    if len(num) > MAX_DOCNUMBER:
        raise PayloadError(f"Synchroteam number {num} is longer than QuickBooks' {MAX_DOCNUMBER} characters",
                           code="docnumber", field="DocNumber")
    return num


# ----------------------------------------------------------------------------------------------- tax


@dataclass
class TaxModel:
    """How QuickBooks wants tax for this company.

    US: each line ``TAX``/``NON`` and the transaction's TotalTax set to Synchroteam's (``txn_code`` names a
    TaxCode for ``TxnTaxCodeRef`` when one matches). Other countries: each line names the TaxCode that maps the
    Synchroteam rate, and ``GlobalTaxCalculation = TaxExcluded`` (Synchroteam prices exclude tax).
    """

    us: bool
    line_code: Callable[[dict[str, Any] | None], str] = field(default=lambda tax: "NON")
    txn_code: Callable[[dict[str, Any] | None], str | None] = field(default=lambda tax: None)


def tax_rate(tax: dict[str, Any] | None) -> Decimal:
    if not tax:
        return ZERO
    return dec(tax.get("rate", tax.get("tax")))


def taxed(tax: dict[str, Any] | None) -> bool:
    return tax_rate(tax) != 0


# ----------------------------------------------------------------------------------------------- lines


ItemRefFor = Callable[[str, dict[str, Any]], dict[str, str]]   # (part reference, ST line) -> {"value", "name"}


def net_unit_price(line: dict[str, Any]) -> Decimal:
    discount = dec(line.get("discount"))
    if discount < 0 or discount > 100:
        raise PayloadError(f"discount {discount}% is not a percentage", code="discount", field="discount")
    return dec(line.get("unitPrice")) * (1 - discount / 100)


def line_amount(line: dict[str, Any]) -> Decimal:
    """Synchroteam's line total excluding tax: ``round(quantity * unitPrice * (1 - discount/100), 2)``."""
    return money(dec(line.get("quantity")) * net_unit_price(line))


def is_description_only(line: dict[str, Any]) -> bool:
    return not line.get("partProductCode") and line_amount(line) == 0


def line_description(line: dict[str, Any]) -> str | None:
    text = (line.get("description") or "").strip()
    discount = dec(line.get("discount"))
    if discount:
        price = money(line.get("unitPrice"))
        text = f"{text} (list price {price}, discount {discount.normalize():f}%)".strip()
    return text[:MAX_DESCRIPTION] or None


def sales_line(line: dict[str, Any], item_ref: dict[str, str], tax: TaxModel) -> dict[str, Any]:
    qty, price = dec(line.get("quantity")), net_unit_price(line)
    amount = money(qty * price)
    detail: dict[str, Any] = {"ItemRef": dict(item_ref)}
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= MAX_PRICE_DECIMALS:
        detail["Qty"] = number(qty)
        detail["UnitPrice"] = number(price.normalize())
    detail["TaxCodeRef"] = {"value": tax.line_code(line.get("tax"))}
    out: dict[str, Any] = {"Amount": number(amount), "DetailType": "SalesItemLineDetail",
                           "SalesItemLineDetail": detail}
    description = line_description(line)
    if description:
        out["Description"] = description
    return out


def description_line(line: dict[str, Any]) -> dict[str, Any]:
    return {"DetailType": "DescriptionOnly", "Description": (line.get("description") or "")[:MAX_DESCRIPTION],
            "DescriptionLineDetail": {}}


def build_lines(st_lines: list[dict[str, Any]], item_for: ItemRefFor, tax: TaxModel) -> list[dict[str, Any]]:
    lines = []
    for line in st_lines:
        if is_description_only(line):
            lines.append(description_line(line))
        else:
            lines.append(sales_line(line, item_for(str(line.get("partProductCode") or ""), line), tax))
    if not lines:
        raise PayloadError("the invoice has no lines", code="no_lines", field="lines")
    return lines


def st_totals(invoice: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """Synchroteam's (total excluding tax, tax, total), from its own figures."""
    return money(invoice.get("totalExclTax")), money(invoice.get("totalTax")), money(invoice.get("total"))


# ----------------------------------------------------------------------------------------------- the invoice


@dataclass(frozen=True)
class Settings:
    """Company-level facts and options that shape every payload of a run."""

    tax: TaxModel
    numbering: Numbering
    home_currency: str | None = None
    multicurrency: bool = False


def build_invoice(invoice: dict[str, Any], customer_id: str, item_for: ItemRefFor, settings: Settings
                  ) -> dict[str, Any]:
    """The QuickBooks Invoice body (without the marker): what the fingerprint is computed over."""
    body: dict[str, Any] = {"CustomerRef": {"value": str(customer_id)},
                            "Line": build_lines(list(invoice.get("lines") or []), item_for, settings.tax)}
    created = str(invoice.get("dateCreated") or "")[:10]
    if created:
        body["TxnDate"] = created
    if invoice.get("dateDue"):
        body["DueDate"] = str(invoice["dateDue"])[:10]
    if settings.numbering.send_st_number:
        body["DocNumber"] = doc_number(invoice)
    memo = (invoice.get("description") or "").strip()
    if memo:
        body["CustomerMemo"] = {"value": memo[:MAX_MEMO]}
    _currency(invoice, body, settings)
    if settings.tax.us:
        _us_tax(invoice, body, settings.tax)
    else:
        body["GlobalTaxCalculation"] = "TaxExcluded"
    return body


def _currency(invoice: dict[str, Any], body: dict[str, Any], settings: Settings) -> None:
    currency = (invoice.get("currency") or "").upper()
    if not currency or not settings.home_currency or currency == settings.home_currency.upper():
        return
    if not settings.multicurrency:
        raise PayloadError(f"the invoice is in {currency} but QuickBooks' home currency is {settings.home_currency} "
                           "and multicurrency is off", code="currency", field="currency")
    body["CurrencyRef"] = {"value": currency}


def _us_tax(invoice: dict[str, Any], body: dict[str, Any], tax: TaxModel) -> None:
    _, total_tax, _ = st_totals(invoice)
    detail: dict[str, Any] = {"TotalTax": number(total_tax)}
    rates = {(str((ln.get("tax") or {}).get("name")), tax_rate(ln.get("tax")))
             for ln in invoice.get("lines") or [] if taxed(ln.get("tax"))}
    if len(rates) == 1:
        name, rate = next(iter(rates))
        code = tax.txn_code({"name": name, "rate": rate})
        if code:
            detail["TxnTaxCodeRef"] = {"value": code}
    body["TxnTaxDetail"] = detail


# ----------------------------------------------------------------------------------------------- identity


def fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of what would be written: the ledger's version, and part of every request id."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def marker(invoice: dict[str, Any], version: str, domain: str | None = None) -> str:
    """The PrivateNote that lets a create look for itself before writing (and tells a person where it came from).

    The Synchroteam account is named too: several accounts may push into one QuickBooks company (one tenant each),
    and their invoice ids can be equal."""
    num = st_number(invoice)
    return (f"Synchroteam invoice {invoice['id']}" + (f" (#{num})" if num else "")
            + (f" from {domain}" if domain else "") + f" v:{version}")


def marker_st_id(private_note: str | None, domain: str | None = None) -> int | None:
    """The Synchroteam invoice id in a marker; with ``domain``, only a marker of that account (or naming none)."""
    found = MARKER_RE.search(private_note or "")
    if not found:
        return None
    if domain and found.group(2) and found.group(2).lower() != domain.lower():
        return None
    return int(found.group(1))


def marker_version(private_note: str | None) -> str | None:
    found = VERSION_RE.search(private_note or "")
    return found.group(1) if found else None


def with_marker(body: dict[str, Any], invoice: dict[str, Any], version: str, domain: str | None = None
                ) -> dict[str, Any]:
    return {**body, "PrivateNote": marker(invoice, version, domain)}


# ----------------------------------------------------------------------------------------------- after a write


def total_gap(st_total: Any, qbo_total: Any) -> Decimal:
    return abs(money(st_total) - money(qbo_total))


def totals_differ(st_total: Any, qbo_total: Any) -> bool:
    """More than one cent apart."""
    return total_gap(st_total, qbo_total) > CENT


def payment_held(obj: dict[str, Any]) -> bool:
    """QuickBooks holds a payment (or credit) against the invoice: it must not be rewritten."""
    if any(str(t.get("TxnType")) in ("Payment", "CreditMemo", "ReceivePayment") for t in obj.get("LinkedTxn") or []):
        return True
    return money(obj.get("Balance", 0)) < money(obj.get("TotalAmt", 0))


def voided(obj: dict[str, Any]) -> bool:
    return str(obj.get("PrivateNote") or "").startswith("Voided") and money(obj.get("TotalAmt", 0)) == 0
