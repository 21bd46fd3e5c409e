"""A connection's extras read the same way everywhere, and the QuickBooks options parsed and checked once.

No Airflow import: the hooks pass ``conn.extra_dejson`` (a plain mapping). The options are read once, when the
hook builds its client, so that a mistyped value stops the run with one message naming the option instead of
surfacing later as a per-invoice failure (or never, for an option that is silently read as false).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from stqbo_api.errors import ConfigurationError

ItemType = Literal["Service", "NonInventory"]
ITEM_TYPES: tuple[ItemType, ...] = ("Service", "NonInventory")
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f")
_LABELS = {"quickbooks": "QuickBooks", "synchroteam": "Synchroteam"}


def extra_value(extra: Mapping[str, Any], name: str, conn_type: str) -> Any:
    """An extra field, in its plain form or the older ``extra__<type>__<name>`` form written by old UIs."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if value == "" else value


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in _TRUE


# Synchroteam's numbered invoice statuses and any partially-paid form (the connector compares statuses without
# case, spaces or punctuation, so "Partially Paid" and "partially_paid" are the same)
DEFAULT_INVOICE_STATUSES = ("new", "sent", "paid", "late", "partially paid", "part paid")

@dataclass(frozen=True)
class QuickBooksOptions:
    """What the QuickBooks connection's extra says about how invoices are written (see docs/operating.md §8).

    ``tax_codes`` maps a Synchroteam tax name to a QuickBooks TaxCode Id; the key ``""`` is for lines without tax.
    """

    use_synchroteam_invoice_numbers: bool = False
    income_account_id: str | None = None
    item_type: ItemType | None = None
    tax_codes: dict[str, str] = field(default_factory=dict, hash=False)
    # Synchroteam invoice statuses that are pushed; any other is named in the run report once per invoice
    invoice_statuses: tuple[str, ...] = DEFAULT_INVOICE_STATUSES

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], conn_type: str = "quickbooks",
                   conn_id: str | None = None) -> QuickBooksOptions:
        """Parse the options; ``ConfigurationError`` names the first bad one (and the connection, when given)."""
        where = _Where(extra, conn_type, conn_id)
        return cls(
            use_synchroteam_invoice_numbers=_flag(where, "use_synchroteam_invoice_numbers"),
            income_account_id=_account_id(where, "income_account_id"),
            item_type=_item_type(where, "item_type"),
            tax_codes=_tax_codes(where, "tax_codes"),
            invoice_statuses=_statuses(where, "invoice_statuses"),
        )


@dataclass(frozen=True)
class _Where:
    """The extra being parsed and how to name its connection in a message."""

    extra: Mapping[str, Any]
    conn_type: str
    conn_id: str | None

    def value(self, option: str) -> Any:
        return extra_value(self.extra, option, self.conn_type)

    def error(self, option: str, problem: str) -> ConfigurationError:
        label = _LABELS.get(self.conn_type, self.conn_type)
        connection = f"the {label} connection" + (f" '{self.conn_id}'" if self.conn_id else "")
        return ConfigurationError(f"The option {option} of {connection} {problem}; fix it in the connection's extra",
                                  option=option, connection=self.conn_id or self.conn_type)


def _flag(where: _Where, option: str) -> bool:
    """A boolean: JSON true/false, or the usual words for them; anything else is refused, not read as false."""
    value = where.value(option)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | str) and str(value).strip().lower() in _TRUE + _FALSE:
        return as_bool(value)
    raise where.error(option, "must be true or false")


def _account_id(where: _Where, option: str) -> str | None:
    """A QuickBooks Id (QuickBooks Ids are whole numbers, sent as text)."""
    value = where.value(option)
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise where.error(option, "must be the Id (a number) of a QuickBooks Income account")
    return text


def _item_type(where: _Where, option: str) -> ItemType | None:
    value = where.value(option)
    if value is None:
        return None
    if value not in ITEM_TYPES:
        raise where.error(option, f"must be {' or '.join(ITEM_TYPES)} (or left empty)")
    return cast(ItemType, value)


def _statuses(where: _Where, option: str) -> tuple[str, ...]:
    """Status names: a JSON list, or text separated by commas ("new, sent, paid, late, partially paid")."""
    value = where.value(option)
    if value is None:
        return DEFAULT_INVOICE_STATUSES
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else [p for p in text.split(",")]
        except ValueError:
            raise where.error(option, "is not a valid JSON list (expected [\"new\", \"sent\"] or new, sent)") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise where.error(option, "must list Synchroteam invoice statuses (for example new, sent, paid, late)")
    statuses = tuple(v.strip() for v in value if v.strip())
    if not statuses:
        raise where.error(option, "lists no status: every invoice would be held back")
    return statuses


def _tax_codes(where: _Where, option: str) -> dict[str, str]:
    """A JSON object (or its text) of Synchroteam tax name -> QuickBooks TaxCode Id."""
    value = where.value(option)
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise where.error(option, "is not valid JSON (expected an object such as {\"VAT\": \"3\"})") from None
    if not isinstance(value, Mapping):
        raise where.error(option, "must be a JSON object of Synchroteam tax name -> QuickBooks TaxCode Id")
    codes: dict[str, str] = {}
    for name, code in value.items():
        if isinstance(code, bool) or not isinstance(code, int | str) or not str(code).strip():
            raise where.error(option, "must map each Synchroteam tax name to a QuickBooks TaxCode Id (text)")
        codes[str(name)] = str(code).strip()
    return codes
