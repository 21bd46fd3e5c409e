"""Invoices: read-only through the API, written by seeds and UI-style edits; totals computed here.

Line maths (a choice, documented in docs/simulators.md): `discount` is a percentage,
`totalExclTax = round(quantity * unitPrice * (1 - discount/100), 2)`, `totalTax = round(totalExclTax * rate/100, 2)`,
`total = totalExclTax + totalTax`, half-up rounding; invoice totals are the sums of the line values.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from simulators.synchroteam.clock import format_day, format_minute, parse_seed_datetime, parse_seed_day
from simulators.synchroteam.errors import bad_request
from simulators.synchroteam.money import as_number, cents, to_decimal
from simulators.synchroteam.parts import parse_tax

# The statuses the product is known to use; an invoice may hold any other string too (facts file, row S4:
# "partially paid", "cancelled", ... UNCONFIRMED), so nothing here restricts them.
KNOWN_STATUSES = ("draft", "new", "sent", "paid", "late")
MAX_STATUS_LENGTH = 50
ZERO = Decimal("0")
KEY_ORDER = (
    "id",
    "num",
    "reference",
    "status",
    "customer",
    "site",
    "job",
    "description",
    "currency",
    "dateCreated",
    "dateModified",
    "dateDue",
    "datePaid",
    "lines",
    "totalExclTax",
    "totalTax",
    "total",
    "customFieldValues",
)


def parse_status(value: Any) -> str:
    """Any non-empty status string, kept as given (trimmed): the simulator holds statuses no client has seen."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_STATUS_LENGTH:
        raise bad_request(f"'status' must be a non-empty string of at most {MAX_STATUS_LENGTH} characters")
    return value.strip()


def status_key(value: str) -> str:
    """Statuses compare ignoring case (`Paid` is `paid`), for the list filter and the draft/paid rules."""
    return value.casefold()


def parse_line(index: int, raw: Any) -> dict[str, Any]:
    """One invoice line; description-only lines (no part, no quantity) are allowed."""
    if not isinstance(raw, dict):
        raise bad_request(f"lines[{index}] must be an object")
    code = raw.get("partProductCode")
    description = raw.get("description")
    if code is not None and not isinstance(code, str):
        raise bad_request(f"lines[{index}].partProductCode must be a string")
    if description is not None and not isinstance(description, str):
        raise bad_request(f"lines[{index}].description must be a string")
    if not code and not description:
        raise bad_request(f"lines[{index}] needs a partProductCode or a description")
    discount = to_decimal(f"lines[{index}].discount", raw.get("discount"), ZERO)
    if discount < 0 or discount > 100:
        raise bad_request(f"lines[{index}].discount is a percentage between 0 and 100")
    return {
        "partProductCode": code or None,
        "description": description,
        "quantity": to_decimal(f"lines[{index}].quantity", raw.get("quantity"), ZERO),
        "unitPrice": to_decimal(f"lines[{index}].unitPrice", raw.get("unitPrice"), ZERO),
        "discount": discount,
        "tax": parse_tax(raw.get("tax")),
    }


def line_totals(line: dict[str, Any]) -> tuple[Decimal, Decimal]:
    excl = cents(line["quantity"] * line["unitPrice"] * (1 - line["discount"] / 100))
    rate = line["tax"]["rate"] if line["tax"] else ZERO
    return excl, cents(excl * rate / 100)


def parse_lines(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("'lines' must be a list")
    return [parse_line(i, line) for i, line in enumerate(raw)]


def _ref_object(name: str, value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"'{name}' must be an object or null")
    return {key: value.get(key) for key in keys}


def apply_changes(record: dict[str, Any], body: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A copy of ``record`` with the fields of a seed or UI edit applied (customer resolution is the caller's).

    Date-times are the account's local time (``zone``), as everywhere in the API's JSON.
    """
    updated = dict(record)
    if "status" in body:
        updated["status"] = parse_status(body["status"])
    if "num" in body:
        num = body["num"]
        if num is not None and (isinstance(num, bool) or not isinstance(num, int)):
            raise bad_request("'num' must be an integer or null")
        updated["num"] = num
    for key in ("reference", "description", "currency"):
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                raise bad_request(f"'{key}' must be a string or null")
            updated[key] = body[key]
    if "site" in body:
        updated["site"] = _ref_object("site", body["site"], ("id", "myId", "name"))
    if "job" in body:
        updated["job"] = _ref_object("job", body["job"], ("id", "num", "myId"))
    if "lines" in body:
        updated["lines"] = parse_lines(body["lines"])
    if "customFieldValues" in body:
        if not isinstance(body["customFieldValues"], list):
            raise bad_request("'customFieldValues' must be a list")
        updated["customFieldValues"] = list(body["customFieldValues"])
    for key in ("dateCreated", "dateModified", "datePaid"):
        if key in body:
            updated[key] = None if body[key] is None else parse_seed_datetime(key, body[key], zone)
    if "dateDue" in body:
        updated["dateDue"] = None if body["dateDue"] is None else parse_seed_day("dateDue", body["dateDue"], zone)
    return updated


def blank_invoice(invoice_id: int, now: datetime) -> dict[str, Any]:
    record: dict[str, Any] = {key: None for key in KEY_ORDER}
    record.update(id=invoice_id, status="new", currency="USD", lines=[], customFieldValues=[],
                  dateCreated=now, dateModified=now)
    return record


def _render_line(line: dict[str, Any]) -> dict[str, Any]:
    excl, tax = line_totals(line)
    tax_obj = line["tax"]
    return {
        "partProductCode": line["partProductCode"],
        "description": line["description"],
        "quantity": as_number(line["quantity"]),
        "unitPrice": float(line["unitPrice"]),
        "discount": as_number(line["discount"]),
        "tax": None if tax_obj is None else {"name": tax_obj["name"], "rate": float(tax_obj["rate"])},
        "totalExclTax": float(excl),
        "totalTax": float(tax),
        "total": float(excl + tax),
    }


def render(record: dict[str, Any], customer: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """Wire shape; ``customer`` is the `{id, myId, name}` reference as it stands now; times local to ``zone``."""
    out = {key: record.get(key) for key in KEY_ORDER}
    out["customer"] = customer
    lines = [_render_line(line) for line in record["lines"]]
    out["lines"] = lines
    excl = sum((Decimal(str(line["totalExclTax"])) for line in lines), ZERO)
    tax = sum((Decimal(str(line["totalTax"])) for line in lines), ZERO)
    out["totalExclTax"] = float(excl)
    out["totalTax"] = float(tax)
    out["total"] = float(excl + tax)
    out["dateCreated"] = format_minute(record["dateCreated"], zone)
    out["dateModified"] = format_minute(record["dateModified"], zone)
    out["datePaid"] = format_minute(record["datePaid"], zone)
    out["dateDue"] = format_day(record["dateDue"])
    return out
