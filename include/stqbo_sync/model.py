"""The canonical customer: the side-neutral projection the merge compares.

A canonical record is a plain ``dict[str, str | bool | None]`` with exactly `CANON_FIELDS` as keys. Text values are
stripped, internal whitespace is kept, and empty text is None, so "" and a missing field compare equal.
"""

from __future__ import annotations

from typing import Any

Canon = dict[str, Any]

CANON_FIELDS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "fax",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "active",
)

TEXT_FIELDS: tuple[str, ...] = tuple(f for f in CANON_FIELDS if f != "active")


def clean_text(value: Any) -> str | None:
    """Strip text; empty becomes None. Non-text values are turned into text (ids, numbers)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def clean_canon(raw: dict[str, Any]) -> Canon:
    """Normalise a projection so that two equal records compare equal field by field."""
    out: Canon = {f: clean_text(raw.get(f)) for f in TEXT_FIELDS}
    active = raw.get("active")
    out["active"] = True if active is None else bool(active)
    return out
