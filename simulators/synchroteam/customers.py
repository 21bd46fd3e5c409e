"""Customer records: validation of `send` bodies, partial merges, and the wire shape.

A stored customer is a dict holding every public key; `dateCreated`/`dateModified` hold full-precision UTC
datetimes and are only turned into the account's local time, cut to the minute, when rendered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulators.synchroteam.clock import format_minute
from simulators.synchroteam.errors import bad_request

STRING_FIELDS = (
    "myId",
    "name",
    "address",
    "addressStreet",
    "addressComplement",
    "addressZIP",
    "addressCity",
    "addressProvince",
    "addressCountry",
    "contactFirstName",
    "contactLastName",
    "contactEmail",
    "contactPhone",
    "contactMobile",
    "contactFax",
    "vatNumber",
)
REQUIRED_ON_CREATE = ("name", "address")
# Wire order of the keys, as in the reference's customer example.
KEY_ORDER = (
    "id",
    "myId",
    "name",
    "address",
    "addressStreet",
    "addressComplement",
    "addressZIP",
    "addressCity",
    "addressProvince",
    "addressCountry",
    "contactFirstName",
    "contactLastName",
    "contactEmail",
    "contactPhone",
    "contactMobile",
    "contactFax",
    "vatNumber",
    "publicLink",
    "customFieldValues",
    "position",
    "tags",
    "active",
    "dateCreated",
    "dateModified",
)


def blank_customer(customer_id: int, now: datetime, public_link: str) -> dict[str, Any]:
    record: dict[str, Any] = {key: None for key in KEY_ORDER}
    record.update(
        id=customer_id,
        publicLink=public_link,
        customFieldValues=[],
        tags=[],
        active=True,
        dateCreated=now,
        dateModified=now,
    )
    return record


def _string(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"'{name}' must be a string or null")


def _custom_fields(current: list[dict[str, Any]], value: Any) -> list[dict[str, Any]]:
    """Merge sent custom field values into the current ones, matched by `id` then `label`.

    Why merge: `send` only updates what it is given, and a client that sets one custom field must not wipe
    the others.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("'customFieldValues' must be a list")
    merged = [dict(item) for item in current]
    for item in value:
        if not isinstance(item, dict) or ("id" not in item and "label" not in item):
            raise bad_request("each customFieldValues entry needs an 'id' or a 'label'")
        target = next(
            (m for m in merged if ("id" in item and m.get("id") == item["id"]) or
             ("id" not in item and m.get("label") == item.get("label"))),
            None,
        )
        if target is None:
            merged.append({"id": item.get("id"), "label": item.get("label"), "value": _string("value", item.get("value"))})
        else:
            target["value"] = _string("value", item.get("value"))
    return merged


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise bad_request("'tags' must be a list of strings")
    return list(value)


def _position(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'position' must be an object with latitude and longitude")
    return {"latitude": value.get("latitude"), "longitude": value.get("longitude")}


def apply_changes(record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``record`` with the writable fields present in ``body`` applied (partial update)."""
    updated = dict(record)
    for key in STRING_FIELDS:
        if key in body:
            updated[key] = _string(key, body[key])
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise bad_request("'active' must be true or false")
        updated["active"] = body["active"]
    if "tags" in body:
        updated["tags"] = _tags(body["tags"])
    if "customFieldValues" in body:
        updated["customFieldValues"] = _custom_fields(record.get("customFieldValues") or [], body["customFieldValues"])
    if "position" in body:
        updated["position"] = _position(body["position"])
    for key in REQUIRED_ON_CREATE:
        if key in body and not (updated[key] or "").strip():
            raise bad_request(f"'{key}' cannot be empty")
    return updated


def check_required(body: dict[str, Any]) -> None:
    for key in REQUIRED_ON_CREATE:
        value = body.get(key)
        if not isinstance(value, str) or not value.strip():
            raise bad_request(f"'{key}' is required to create a customer")


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when nothing a client can see changed (timestamps aside): such a send must not bump dateModified."""
    return all(a.get(k) == b.get(k) for k in KEY_ORDER if k not in ("dateCreated", "dateModified"))


def render(record: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    out = {key: record.get(key) for key in KEY_ORDER}
    out["dateCreated"] = format_minute(record["dateCreated"], zone)
    out["dateModified"] = format_minute(record["dateModified"], zone)
    return out


def name_key(name: str | None) -> str:
    """Index key for name lookups: case-insensitive, like the SQL Server collation the product most likely uses."""
    return (name or "").casefold()
