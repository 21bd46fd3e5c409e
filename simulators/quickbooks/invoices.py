"""Invoice writes: lines, the US and non-US tax models, DocNumber numbering, totals, void and delete.

QuickBooks recomputes every amount it owns (subtotal, tax, TotalAmt, Balance) and rejects inconsistent input,
so the simulator does the same; integrators must re-read what QuickBooks stored rather than trust what they sent.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

from simulators.quickbooks.core import (
    QboFault,
    add_days,
    bad_length,
    bad_property,
    business,
    dec,
    invalid_ref,
    is_date,
    money,
    pacific_date,
    required,
)
from simulators.quickbooks.entities import META, check_fields, clean, resolve_ref
from simulators.quickbooks.store import Realm

WRITABLE = {
    "CustomerRef", "Line", "TxnDate", "DueDate", "DocNumber", "PrivateNote", "CustomerMemo", "BillAddr", "ShipAddr",
    "ShipFromAddr", "BillEmail", "BillEmailCc", "BillEmailBcc", "TxnTaxDetail", "ApplyTaxAfterDiscount",
    "GlobalTaxCalculation", "SalesTermRef", "ClassRef", "DepartmentRef", "ShipMethodRef", "ShipDate", "TrackingNum",
    "PrintStatus", "EmailStatus", "AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment", "Deposit", "DepositToAccountRef", "CustomField", "CurrencyRef", "ExchangeRate",
    "TransactionLocationType", "TxnSource", "DeliveryInfo", "FreeFormAddress", "ProjectRef", "RecurDataRef",
    "TaxExemptionRef", "EInvoiceStatus", "TxnStatus", "LinkedTxn",
}
READ_ONLY = {"TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "InvoiceLink"}
LINE_FIELDS = {"Id", "LineNum", "Description", "Amount", "DetailType", "LinkedTxn", "CustomField",
               "SalesItemLineDetail", "DescriptionLineDetail", "DiscountLineDetail", "SubTotalLineDetail",
               "SubtotalLineDetail", "GroupLineDetail", "ProjectRef"}
GLOBAL_TAX = ("TaxExcluded", "TaxInclusive", "NotApplicable")
DOC_RE = re.compile(r"^(.*?)(\d+)$")


def is_us(realm: Realm) -> bool:
    return realm.country == "US"


def build_invoice(
    realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, params: dict[str, str]
) -> dict[str, Any]:
    data = clean(body)
    check_fields("Invoice", data, WRITABLE | READ_ONLY | META)
    if current is not None and current["Id"] in realm.voided:
        raise business("You can't edit a voided transaction.")
    if current is not None and sparse:
        obj = copy.deepcopy(current)
    elif current is not None:
        obj = {k: copy.deepcopy(v) for k, v in current.items() if k in READ_ONLY | {"Id", "SyncToken", "LinkedTxn"}}
    else:
        obj = {}
    for key, value in data.items():
        if key in WRITABLE:
            obj[key] = value
    customer = resolve_ref(realm, "Customer", obj.get("CustomerRef"), "CustomerRef")
    obj["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    fill_header(realm, obj, data, customer, current)
    assign_doc_number(realm, obj, data, current, params)
    if "Line" not in obj or not isinstance(obj["Line"], list):
        raise required("Line")
    compute(realm, obj, data, customer, current, sparse)
    return obj


def fill_header(
    realm: Realm, obj: dict[str, Any], data: dict[str, Any], customer: dict[str, Any], current: dict[str, Any] | None
) -> None:
    """Dates, addresses, e-mail and the server defaults of a new invoice."""
    today = pacific_date(realm.clock.ts()).isoformat()
    obj.setdefault("TxnDate", today)
    for field in ("TxnDate", "DueDate", "ShipDate"):
        if field in obj and not is_date(obj[field]):
            raise bad_property(f"{field} is not a valid date (YYYY-MM-DD). Supplied value:{obj[field]}", field)
    if "DueDate" not in obj:
        obj["DueDate"] = add_days(obj["TxnDate"], 30)
    for field, maximum in (("PrivateNote", 4000), ("TrackingNum", 31)):
        if isinstance(obj.get(field), str) and len(obj[field]) > maximum:
            raise bad_length(field, maximum, len(obj[field]))
    if isinstance(obj.get("CustomField"), list) and len(obj["CustomField"]) > 3:
        raise business("At most 3 custom fields are allowed on a transaction.", "CustomField")
    memo = (obj.get("CustomerMemo") or {}).get("value")
    if isinstance(memo, str) and len(memo) > 1000:
        raise bad_length("CustomerMemo", 1000, len(memo))
    for field, source in (("BillAddr", "BillAddr"), ("ShipAddr", "ShipAddr")):
        if field not in obj and customer.get(source):
            obj[field] = copy.deepcopy(customer[source])
    if "BillEmail" not in obj and customer.get("PrimaryEmailAddr"):
        obj["BillEmail"] = copy.deepcopy(customer["PrimaryEmailAddr"])
    if obj.get("EmailStatus") == "NeedToSend" and not (obj.get("BillEmail") or {}).get("Address"):
        raise business("Email Address is required when the email status is NeedToSend.", "BillEmail")
    for flag in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
        obj.setdefault(flag, False)
    obj.setdefault("CurrencyRef", realm.currency())
    obj.setdefault("LinkedTxn", [])
    obj.setdefault("PrintStatus", "NotSet")
    obj.setdefault("EmailStatus", "NotSet")
    obj.pop("Deposit", None) if not obj.get("Deposit") else None
    obj.pop("ExchangeRate", None) if not realm.preferences["CurrencyPrefs"]["MultiCurrencyEnabled"] else None
    obj["domain"] = "QBO"
    obj["sparse"] = False


def next_doc_number(last: str | None) -> str:
    """"The last number + 1": trailing digits are incremented, a prefix is kept (App_1000 -> App_1001)."""
    if last is None:
        return "1001"
    match = DOC_RE.match(last)
    if not match:
        return last + "1"
    prefix, digits = match.groups()
    return prefix + str(int(digits) + 1).zfill(len(digits))


def assign_doc_number(
    realm: Realm, obj: dict[str, Any], data: dict[str, Any], current: dict[str, Any] | None, params: dict[str, str]
) -> None:
    custom = realm.preferences["SalesFormsPrefs"].get("CustomTxnNumbers", False)
    if "DocNumber" in data:
        number: str | None = str(data["DocNumber"])
    elif current is not None:
        number = current.get("DocNumber")
    elif custom:
        number = None
    else:
        number = next_doc_number(realm.last_doc_number)
        while realm.doc_numbers.get(number):
            number = next_doc_number(number)
    if number is None:
        obj.pop("DocNumber", None)
        return
    if len(number) > 21:
        raise bad_length("DocNumber", 21, len(number))
    others = realm.doc_numbers.get(number, set()) - {obj.get("Id")}
    if others and "allowduplicatedocnum" not in params.get("include", "").lower():
        raise QboFault(
            "6140", "Duplicate Document Number Error",
            "Duplicate Document Number Error : You must specify a different number. This number has already been "
            f"used. DocNumber={number} is assigned to TxnType=Invoice with TxnId={sorted(others)[0]}",
            "DocNumber",
        )
    obj["DocNumber"] = number


def line_tax_code(realm: Realm, detail: dict[str, Any], item: dict[str, Any], customer: dict[str, Any]) -> str:
    """US lines carry TAX or NON (6100 otherwise); other countries name a real TaxCode Id (2500 otherwise)."""
    ref = detail.get("TaxCodeRef")
    value = str(ref.get("value", "")).strip() if isinstance(ref, dict) else ""
    if is_us(realm):
        if not value:
            return "TAX" if item.get("Taxable") and customer.get("Taxable", True) else "NON"
        if value not in ("TAX", "NON"):
            raise QboFault("6100", "Invalid Line TaxCode", "Valid Line TaxCodes for US should be TAX or NON",
                           "Line.SalesItemLineDetail.TaxCodeRef")
        return value
    if not value:
        raise required("Line.SalesItemLineDetail.TaxCodeRef")
    code = realm.get("TaxCode", value)
    if code is None or code.get("Active") is False or value in ("TAX", "NON"):
        raise invalid_ref("Line.SalesItemLineDetail.TaxCodeRef")
    return value


def sales_line(
    realm: Realm, line: dict[str, Any], customer: dict[str, Any]
) -> tuple[dict[str, Any], Decimal, str]:
    detail = line.get("SalesItemLineDetail")
    if not isinstance(detail, dict):
        detail = {}
    item = resolve_ref(realm, "Item", detail.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef")
    if "Amount" not in line:
        raise required("Line.Amount")
    amount = dec(line["Amount"])
    qty, price = detail.get("Qty"), detail.get("UnitPrice")
    if qty is not None and price is not None and (dec(qty) != 0 or dec(price) != 0):
        if dec(money(dec(qty) * dec(price))) != dec(money(amount)):
            raise QboFault("6070", "Amount calculation incorrect",
                           f"Amount is not equal to Qty * UnitPrice. Supplied value:{line['Amount']}", "Line.Amount")
    if "ServiceDate" in detail and not is_date(detail["ServiceDate"]):
        raise bad_property(f"ServiceDate is not a valid date. Supplied value:{detail['ServiceDate']}", "ServiceDate")
    code = line_tax_code(realm, detail, item, customer)
    out_detail = {k: v for k, v in detail.items() if k not in ("ItemRef", "TaxCodeRef") and not (k in ("Qty", "UnitPrice") and dec(v) == 0 and dec(qty or 0) == 0 and dec(price or 0) == 0)}
    out_detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
    out_detail["TaxCodeRef"] = {"value": code}
    out = {k: v for k, v in line.items() if k in ("Id", "Description", "LinkedTxn", "CustomField") and v != []}
    out.update({"Amount": money(amount), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": out_detail})
    return out, dec(money(amount)), code


def process_lines(
    realm: Realm, lines: list[Any], customer: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[Decimal, str]]]:
    """Split the request's lines into item/description lines and discount lines; subtotal lines are dropped."""
    body_lines: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]] = []
    taxed: list[tuple[Decimal, str]] = []
    for raw in lines:
        if not isinstance(raw, dict):
            raise bad_property("Line must be an object", "Line")
        check_fields("Line", raw, LINE_FIELDS)
        kind = raw.get("DetailType")
        if not kind:
            raise required("Line.DetailType")
        if kind == "SalesItemLineDetail":
            out, amount, code = sales_line(realm, raw, customer)
            body_lines.append(out)
            taxed.append((amount, code))
        elif kind == "DescriptionOnly":
            out = {k: v for k, v in raw.items() if k in ("Id", "Description", "Amount", "DescriptionLineDetail")}
            out["DetailType"] = "DescriptionOnly"
            out.setdefault("DescriptionLineDetail", {})
            if "Amount" in out:
                out["Amount"] = money(out["Amount"])
            body_lines.append(out)
        elif kind == "DiscountLineDetail":
            discounts.append(raw)
        elif kind == "SubTotalLineDetail":
            continue
        elif kind == "GroupLineDetail":
            raise business("GroupLineDetail lines are not supported by this simulator.", "Line.GroupLineDetail")
        else:
            raise bad_property(f"DetailType has an invalid value. Supplied value:{kind}", "Line.DetailType")
    if not body_lines:
        raise required("Line")
    return body_lines, discounts, taxed


def discount_lines(raw_discounts: list[dict[str, Any]], subtotal: Decimal) -> tuple[list[dict[str, Any]], Decimal]:
    out, total = [], Decimal("0")
    for raw in raw_discounts:
        detail = raw.get("DiscountLineDetail") or {}
        percent_based = detail.get("PercentBased") in (True, "true")
        if percent_based:
            if detail.get("DiscountPercent") is None:
                raise required("Line.DiscountLineDetail.DiscountPercent")
            amount = dec(money(subtotal * dec(detail["DiscountPercent"]) / 100))
            new_detail = {"PercentBased": True, "DiscountPercent": detail["DiscountPercent"]}
        else:
            if "Amount" not in raw:
                raise required("Line.Amount")
            amount = dec(money(raw["Amount"]))
            new_detail = {"PercentBased": False}
        for key in ("DiscountAccountRef", "ClassRef", "TaxCodeRef"):
            if key in detail:
                new_detail[key] = detail[key]
        line = {k: v for k, v in raw.items() if k in ("Id", "Description")}
        line.update({"Amount": float(amount), "DetailType": "DiscountLineDetail", "DiscountLineDetail": new_detail})
        out.append(line)
        total += amount
    return out, total


def number_lines(lines: list[dict[str, Any]], current: dict[str, Any] | None) -> None:
    """Line Ids are kept when the client echoes them, new lines continue after the highest Id."""
    known = {ln.get("Id") for ln in (current or {}).get("Line", []) if ln.get("Id")}
    top = max([int(i) for i in known if str(i).isdigit()] + [0])
    num = 0
    for line in lines:
        if line["DetailType"] == "SubTotalLineDetail":
            continue
        if line.get("Id") not in known:
            top += 1
            line["Id"] = str(top)
        if line["DetailType"] in ("SalesItemLineDetail", "DescriptionOnly"):
            num += 1
            line["LineNum"] = num


def rate_of(realm: Realm, code_id: str) -> list[tuple[str, Decimal]]:
    code = realm.get("TaxCode", code_id) or {}
    rates = []
    for detail in ((code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []):
        rate_id = str((detail.get("TaxRateRef") or {}).get("value", ""))
        rate = realm.get("TaxRate", rate_id)
        if rate is not None:
            rates.append((rate_id, dec(rate.get("RateValue", 0))))
    return rates


def compute(
    realm: Realm, obj: dict[str, Any], data: dict[str, Any], customer: dict[str, Any],
    current: dict[str, Any] | None, sparse: bool,
) -> None:
    """Lines, tax and totals; the stored Balance keeps whatever has been paid already."""
    lines, raw_discounts, taxed = process_lines(realm, obj["Line"], customer)
    subtotal = sum((dec(ln["Amount"]) for ln in lines if ln["DetailType"] == "SalesItemLineDetail"), Decimal("0"))
    discounts, discount = discount_lines(raw_discounts, subtotal)
    obj["ApplyTaxAfterDiscount"] = bool(obj.get("ApplyTaxAfterDiscount", False))
    factor = (1 - discount / subtotal) if obj["ApplyTaxAfterDiscount"] and subtotal else Decimal("1")
    if is_us(realm):
        obj.pop("GlobalTaxCalculation", None)
        tax = us_tax(realm, obj, data, taxed, factor, current, sparse)
    else:
        tax = global_tax(realm, obj, data, lines, taxed, factor, current)
    if len(lines) > 750 and any(code == "TAX" or not is_us(realm) for _, code in taxed):
        raise business("A taxable transaction can have at most 750 lines.", "Line")
    subtotal_line = {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    obj["Line"] = lines + [subtotal_line] + discounts
    number_lines(obj["Line"], current)
    total = dec(money(subtotal - discount + tax))
    paid = Decimal("0")
    if current is not None:
        paid = dec(current.get("TotalAmt", 0)) - dec(current.get("Balance", 0))
    obj["TotalAmt"] = float(total)
    obj["Balance"] = float(max(total - paid, Decimal("0")))


def us_tax(
    realm: Realm, obj: dict[str, Any], data: dict[str, Any], taxed: list[tuple[Decimal, str]], factor: Decimal,
    current: dict[str, Any] | None, sparse: bool,
) -> Decimal:
    """Transaction-level rate on the TAX lines; a TotalTax sent by the client overrides the computation."""
    if not realm.preferences["TaxPrefs"].get("UsingSalesTax", True):
        obj["TxnTaxDetail"] = {"TotalTax": 0}
        return Decimal("0")
    raw_sent = data.get("TxnTaxDetail")
    sent: dict[str, Any] = raw_sent if isinstance(raw_sent, dict) else {}
    if not sent and current is not None and sparse and "Line" not in data:
        sent = current.get("TxnTaxDetail") or {}
    code_ref = sent.get("TxnTaxCodeRef") if isinstance(sent.get("TxnTaxCodeRef"), dict) else None
    code_id = str(code_ref.get("value")) if code_ref else "2"
    if realm.get("TaxCode", code_id) is None:
        if code_ref:
            raise invalid_ref("TxnTaxDetail.TxnTaxCodeRef")
        code_id = ""
    taxable = sum((amount for amount, code in taxed if code == "TAX"), Decimal("0")) * factor
    rates = rate_of(realm, code_id) if code_id else []
    percent = sum((r for _, r in rates), Decimal("0"))
    tax = dec(money(sent["TotalTax"])) if sent.get("TotalTax") is not None else dec(money(taxable * percent / 100))
    detail: dict[str, Any] = {}
    if code_id and taxable:
        detail["TxnTaxCodeRef"] = {"value": code_id}
    detail["TotalTax"] = float(tax)
    if code_id and taxable and rates:
        detail["TaxLine"] = [{
            "Amount": float(tax), "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": rates[0][0]}, "PercentBased": True,
                              "TaxPercent": float(percent), "NetAmountTaxable": money(taxable)},
        }]
    obj["TxnTaxDetail"] = detail
    return tax


def global_tax(
    realm: Realm, obj: dict[str, Any], data: dict[str, Any], lines: list[dict[str, Any]],
    taxed: list[tuple[Decimal, str]], factor: Decimal, current: dict[str, Any] | None,
) -> Decimal:
    """Non-US: a TaxCode per line, GlobalTaxCalculation required, QuickBooks computes TotalTax itself."""
    mode = obj.get("GlobalTaxCalculation")
    if not mode:
        raise required("GlobalTaxCalculation")
    if mode not in GLOBAL_TAX:
        raise bad_property(f"GlobalTaxCalculation has an invalid value. Supplied value:{mode}", "GlobalTaxCalculation")
    per_rate: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    sales = [ln for ln in lines if ln["DetailType"] == "SalesItemLineDetail"]
    for line, (amount, code) in zip(sales, taxed, strict=True):
        rates = rate_of(realm, code)
        percent = sum((r for _, r in rates), Decimal("0"))
        if mode == "TaxInclusive":
            line["SalesItemLineDetail"]["TaxInclusiveAmt"] = money(amount * (1 + percent / 100))
        for rate_id, rate in rates:
            net, tax, _ = per_rate.get(rate_id, (Decimal("0"), Decimal("0"), rate))
            per_rate[rate_id] = (net + amount * factor, tax + amount * factor * rate / 100, rate)
    total = Decimal("0")
    tax_lines = []
    if mode != "NotApplicable":
        for rate_id, (net, tax, rate) in per_rate.items():
            amount = dec(money(tax))
            total += amount
            tax_lines.append({
                "Amount": float(amount), "DetailType": "TaxLineDetail",
                "TaxLineDetail": {"TaxRateRef": {"value": rate_id}, "PercentBased": True,
                                  "TaxPercent": float(rate), "NetAmountTaxable": money(net)},
            })
    obj["TxnTaxDetail"] = {"TotalTax": float(total), "TaxLine": tax_lines} if tax_lines else {"TotalTax": float(total)}
    return total


def void_invoice(realm: Realm, current: dict[str, Any]) -> dict[str, Any]:
    """A void keeps the invoice with zero amounts and PrivateNote "Voided", whatever note it had (facts Q8)."""
    obj = copy.deepcopy(current)
    for line in obj["Line"]:
        if "Amount" in line:
            line["Amount"] = 0.0
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, dict):
            detail.pop("Qty", None)
            detail.pop("UnitPrice", None)
    note = obj.get("PrivateNote")
    obj["PrivateNote"] = f"Voided - {note}" if note and realm.lenient.void_keeps_note else "Voided"
    obj["TxnTaxDetail"] = {"TotalTax": 0}
    obj["TotalAmt"] = 0.0
    obj["Balance"] = 0.0
    obj["SyncToken"] = str(int(current["SyncToken"]) + 1)
    realm.voided.add(obj["Id"])
    return obj


def refresh_customer_balance(realm: Realm, customer_id: str) -> None:
    """Open invoices make up a customer's Balance (not a user edit: SyncToken and LastUpdatedTime stay)."""
    customer = realm.get("Customer", customer_id)
    if customer is None:
        return
    total = realm.opening_balances.get(customer_id, Decimal("0"))
    for invoice_id in realm.by_customer.get(customer_id, set()):
        total += dec(realm.rows["Invoice"][invoice_id].get("Balance", 0))
    customer["Balance"] = money(total)
    customer["BalanceWithJobs"] = money(total)
    realm.touch()
