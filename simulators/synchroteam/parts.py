"""Parts and services catalogue: `send` is an upsert keyed by `reference`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from simulators.synchroteam.clock import format_minute
from simulators.synchroteam.errors import bad_request
from simulators.synchroteam.money import as_number, cents, rate_text, to_decimal

TYPES = ("part", "service")
STATUSES = ("active", "inactive")
KEY_ORDER = (
    "id",
    "reference",
    "name",
    "description",
    "price",
    "type",
    "status",
    "isTracked",
    "isSerializable",
    "minQuantity",
    "category",
    "tax",
    "dateCreated",
    "dateModified",
)


def blank_part(part_id: int, reference: str, now: datetime) -> dict[str, Any]:
    record: dict[str, Any] = {key: None for key in KEY_ORDER}
    record.update(
        id=part_id,
        reference=reference,
        price=Decimal("0"),
        type="part",
        status="active",
        isTracked=False,
        isSerializable=False,
        minQuantity=Decimal("0"),
        dateCreated=now,
        dateModified=now,
    )
    return record


def parse_tax(value: Any) -> dict[str, Any] | None:
    """A tax as `{"name", "rate"}` (invoice lines) or `{"name", "tax"}` (parts); `None` means untaxed."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        raise bad_request("'tax' must be null or an object with a 'name' and a 'rate'")
    rate = to_decimal("tax.rate", value.get("rate", value.get("tax")))
    if rate < 0 or rate > 100:
        raise bad_request("'tax.rate' must be between 0 and 100")
    return {"name": value["name"], "rate": rate}


def _text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"'{name}' must be a string or null")


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false")
    return value


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise bad_request(f"'{name}' must be one of {', '.join(allowed)}")
    return value.lower()


def _category(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'category' must be an object with 'id' and 'name'")
    return {"id": value.get("id"), "name": value.get("name")}


def apply_changes(record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with the fields present in ``body`` applied; fields not sent are kept."""
    updated = dict(record)
    for key in ("name", "description"):
        if key in body:
            updated[key] = _text(key, body[key])
    if "price" in body:
        price = to_decimal("price", body["price"])
        if price < 0:
            raise bad_request("'price' cannot be negative")
        updated["price"] = price
    if "type" in body:
        updated["type"] = _choice("type", body["type"], TYPES)
    if "status" in body:
        updated["status"] = _choice("status", body["status"], STATUSES)
    for key in ("isTracked", "isSerializable"):
        if key in body:
            updated[key] = _flag(key, body[key])
    if "minQuantity" in body:
        updated["minQuantity"] = to_decimal("minQuantity", body["minQuantity"], Decimal("0"))
    if "category" in body:
        updated["category"] = _category(body["category"])
    if "tax" in body:
        updated["tax"] = parse_tax(body["tax"])
    if not (updated.get("name") or "").strip():
        raise bad_request("'name' is required")
    return updated


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in KEY_ORDER if k not in ("dateCreated", "dateModified"))


def render(record: dict[str, Any], tax_id: int | None, zone: ZoneInfo) -> dict[str, Any]:
    out = {key: record.get(key) for key in KEY_ORDER}
    out["price"] = str(cents(record["price"]))
    out["minQuantity"] = as_number(record["minQuantity"])
    tax = record.get("tax")
    out["tax"] = None if tax is None else {"id": tax_id, "name": tax["name"], "tax": rate_text(tax["rate"])}
    out["dateCreated"] = format_minute(record["dateCreated"], zone)
    out["dateModified"] = format_minute(record["dateModified"], zone)
    return out
