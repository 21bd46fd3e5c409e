"""The field mapping, both ways, in one table. This is the only place that knows field names on either side.

| canonical      | Synchroteam customer | QuickBooks Customer                       |
|----------------|----------------------|-------------------------------------------|
| name           | name                 | DisplayName (+ CompanyName on write)      |
| first_name     | contactFirstName     | GivenName                                 |
| last_name      | contactLastName      | FamilyName                                |
| email          | contactEmail         | PrimaryEmailAddr.Address                  |
| phone          | contactPhone         | PrimaryPhone.FreeFormNumber               |
| mobile         | contactMobile        | Mobile.FreeFormNumber                     |
| fax            | contactFax           | Fax.FreeFormNumber                        |
| address_line1  | addressStreet        | BillAddr.Line1                            |
| address_line2  | addressComplement    | BillAddr.Line2                            |
| city           | addressCity          | BillAddr.City                             |
| region         | addressProvince      | BillAddr.CountrySubDivisionCode           |
| postal_code    | addressZIP           | BillAddr.PostalCode                       |
| country        | addressCountry       | BillAddr.Country                          |
| active         | active               | Active                                    |

Side-specific rules kept here too:
- QuickBooks appends " (deleted)" to the DisplayName of an inactive customer: the projection strips it.
- Synchroteam needs a one-line ``address`` on create: it is rebuilt from the parts whenever a part is written.
- QuickBooks' length limits are applied when writing (see `names.QBO_MAX_LENGTHS`); the truncation is reported.
"""

from __future__ import annotations

from typing import Any

from stqbo_sync.model import Canon, clean_canon, clean_text
from stqbo_sync.names import QBO_MAX_LENGTHS, strip_deleted_suffix

# canonical field -> (Synchroteam key, QuickBooks path)
FIELD_MAP: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("name", ("DisplayName",)),
    "first_name": ("contactFirstName", ("GivenName",)),
    "last_name": ("contactLastName", ("FamilyName",)),
    "email": ("contactEmail", ("PrimaryEmailAddr", "Address")),
    "phone": ("contactPhone", ("PrimaryPhone", "FreeFormNumber")),
    "mobile": ("contactMobile", ("Mobile", "FreeFormNumber")),
    "fax": ("contactFax", ("Fax", "FreeFormNumber")),
    "address_line1": ("addressStreet", ("BillAddr", "Line1")),
    "address_line2": ("addressComplement", ("BillAddr", "Line2")),
    "city": ("addressCity", ("BillAddr", "City")),
    "region": ("addressProvince", ("BillAddr", "CountrySubDivisionCode")),
    "postal_code": ("addressZIP", ("BillAddr", "PostalCode")),
    "country": ("addressCountry", ("BillAddr", "Country")),
    "active": ("active", ("Active",)),
}

ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
ST_ADDRESS_PLACEHOLDER = "Address not given"


def _get_path(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


# ------------------------------------------------------------------------------------------------ reading


def st_to_canon(customer: dict[str, Any]) -> Canon:
    """Project a Synchroteam customer (as the API returns it) onto the canonical fields."""
    return clean_canon({field: customer.get(st_key) for field, (st_key, _) in FIELD_MAP.items()})


def qbo_to_canon(customer: dict[str, Any]) -> Canon:
    """Project a QuickBooks Customer onto the canonical fields (the " (deleted)" suffix removed)."""
    canon = clean_canon({field: _get_path(customer, path) for field, (_, path) in FIELD_MAP.items()})
    if canon["name"] and not canon["active"]:
        canon["name"] = strip_deleted_suffix(canon["name"])
    return canon


# ------------------------------------------------------------------------------------------------ writing


def st_one_line_address(canon: Canon) -> str:
    parts = [canon.get(f) for f in ("address_line1", "address_line2", "city", "region", "postal_code", "country")]
    return ", ".join(p for p in parts if p) or ST_ADDRESS_PLACEHOLDER


def canon_to_st(values: Canon, full: Canon | None = None) -> dict[str, Any]:
    """A Synchroteam `send` body for the given canonical values (partial update semantics).

    ``full`` is the whole canonical record after the change; when an address part changes, the one-line
    ``address`` is rebuilt from it so both stay consistent.
    """
    body: dict[str, Any] = {}
    for field, value in values.items():
        st_key, _ = FIELD_MAP[field]
        body[st_key] = value if field == "active" else (value or "")
    if full is not None and any(f in values for f in ADDRESS_FIELDS):
        body["address"] = st_one_line_address(full)
    return body


def _truncate(value: str | None, limit: int | None) -> str | None:
    if value is None or limit is None:
        return value
    return value[:limit].rstrip()   # QuickBooks trims what it stores: cut, then trim, so the base is stable


def canon_to_qbo(values: Canon, display_name: str | None = None) -> dict[str, Any]:
    """A QuickBooks Customer body (for create, or the changed part of a sparse update).

    ``display_name`` is the unique DisplayName chosen by `names.unique_display_name`; the plain name also goes to
    CompanyName. A value set to None is sent as an empty string so that a sparse update clears it.
    """
    body: dict[str, Any] = {}
    for field, value in values.items():
        if field == "active":
            body["Active"] = bool(value)
            continue
        _, path = FIELD_MAP[field]
        limit = QBO_MAX_LENGTHS.get(".".join(path))
        text = _truncate(clean_text(value), limit)
        if field == "name":
            body["DisplayName"] = display_name or text
            body["CompanyName"] = _truncate(text, QBO_MAX_LENGTHS["CompanyName"]) or ""
            continue
        if len(path) == 1:
            body[path[0]] = text or ""
        elif path[0] == "BillAddr":
            body.setdefault("BillAddr", {})[path[1]] = text or ""
        else:
            body[path[0]] = {path[1]: text or ""}
    return body


def fill_address(body: dict[str, Any], current: Canon) -> dict[str, Any]:
    """A QuickBooks sparse update replaces the whole BillAddr object: send every part, not only the changed one."""
    if "BillAddr" in body:
        for field in ADDRESS_FIELDS:
            _, path = FIELD_MAP[field]
            body["BillAddr"].setdefault(path[1], current.get(field) or "")
    return body
