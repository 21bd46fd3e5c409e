"""The plan as a person reviews it: per record, what the run does (or did), to which pair of records, why, and for
updates each field with its value before and after. Pure: it reads the stored plan rows of a run (``sync.plan`` and
``sync.invoice_plan`` as dicts), so the review of any past run is computed on demand from what the run stored, and
it is the same review whether the run was dry or real.

Also the CSV export of a review (for spreadsheets: cells that a spreadsheet would run as a formula are neutralised).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stqbo_sync.model import CANON_FIELDS
from stqbo_sync.names import qbo_safe_name
from stqbo_sync.types import Action

QBO, ST = "QuickBooks", "Synchroteam"
WINNER = {"st": ST, "qbo": QBO}


@dataclass(frozen=True)
class FieldChange:
    """One field a row writes: to which side, the value that side holds now and the value written."""

    field: str
    side: str          # the side written: "QuickBooks" or "Synchroteam"
    before: Any
    after: Any


@dataclass(frozen=True)
class CustomerReview:
    """One customer plan row as a person reads it. Ids are text (an ambiguous group lists several)."""

    seq: int | None
    action: str
    status: str
    st_id: str | None
    st_name: str | None
    qbo_id: str | None
    qbo_name: str | None
    why: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "action": self.action, "status": self.status, "st_id": self.st_id,
                "st_name": self.st_name, "qbo_id": self.qbo_id, "qbo_name": self.qbo_name, "why": self.why,
                "changes": [vars(c) for c in self.changes], "error": self.error}


@dataclass(frozen=True)
class InvoiceReview:
    """One invoice plan row as a person reads it."""

    st_id: int
    number: str | None
    customer: str | None
    total: str | None
    action: str
    status: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


# ----------------------------------------------------------------------------------------------- customers


def customer_reviews(rows: Iterable[Mapping[str, Any]]) -> list[CustomerReview]:
    """The review of a run's customer plan rows, in plan order."""
    return [customer_review(r) for r in rows]


def customer_review(row: Mapping[str, Any]) -> CustomerReview:
    """One stored ``sync.plan`` row (its payload is what `plan_customers` wrote for that action)."""
    action = str(row["action"])
    p: Mapping[str, Any] = row.get("payload") or {}
    result: Mapping[str, Any] = row.get("result") or {}
    st_id, qbo_id = _text(row.get("st_id")), _text(row.get("qbo_id"))
    st_name = qbo_name = None
    changes: tuple[FieldChange, ...] = ()
    why = str(row.get("reason") or "")
    if action in (Action.LINK, Action.UPDATE):
        st_name, qbo_name = _name(p.get("st_canon")), _name(p.get("qbo_canon"))
        changes = pair_changes(p)
        why = _pair_why(action, p, why)
    elif action == Action.CREATE_QBO:
        canon = p.get("canon") or {}
        st_name, qbo_name = _name(canon), p.get("display_name") or _name(canon)
        qbo_id = qbo_id or _text(result.get("qbo_id"))
        changes = _created(canon, QBO)
        if qbo_name and qbo_name != _name(canon):
            safe = qbo_safe_name(_name(canon) or "")
            cause = ("the name is taken there" if qbo_name != safe
                     else "QuickBooks does not allow a colon, tab or newline in a name, or one this long")
            why += f"; named '{qbo_name}' in QuickBooks ({cause})"
    elif action == Action.CREATE_ST:
        canon = p.get("canon") or {}
        st_name = qbo_name = _name(canon)
        st_id = st_id or _text(result.get("st_id"))
        changes = _created(canon, ST)
    elif action == Action.DEACTIVATE_QBO:
        if p.get("was_active", True):
            changes = (FieldChange("active", QBO, True, False),)
    elif action == Action.AMBIGUOUS and p.get("st_ids") is not None:
        st_id = ", ".join(str(i) for i in p.get("st_ids") or [])
        qbo_id = ", ".join(str(i) for i in p.get("qbo_ids") or [])
        st_name = qbo_name = p.get("name")
    elif action == Action.WARNING:
        st_name, qbo_name = p.get("st_name"), p.get("qbo_name")
    note = result.get("note") or ("adopted an existing record with the same name" if result.get("adopted") else None)
    if note:
        why += f"; {note}"
    return CustomerReview(row.get("seq"), action, str(row.get("status") or "pending"), st_id, st_name, qbo_id,
                          qbo_name, why, changes, row.get("error"))


def pair_changes(payload: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """A linked pair's writes: each field written to QuickBooks (before: QuickBooks' value) then to Synchroteam."""
    st_now, qbo_now = payload.get("st_canon") or {}, payload.get("qbo_canon") or {}
    out = [FieldChange(f, QBO, qbo_now.get(f), v) for f, v in _in_order(payload.get("to_qbo"))]
    out += [FieldChange(f, ST, st_now.get(f), v) for f, v in _in_order(payload.get("to_st"))]
    return tuple(out)


def _in_order(values: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """Fields in the canonical order (a stored JSON object does not keep its keys' order)."""
    rank = {f: i for i, f in enumerate(CANON_FIELDS)}
    return sorted((values or {}).items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _created(canon: Mapping[str, Any], side: str) -> tuple[FieldChange, ...]:
    """A create writes every field that holds a value (``active`` is implied: only active records are created)."""
    return tuple(FieldChange(f, side, None, v) for f, v in canon.items() if v is not None and f != "active")


def _pair_why(action: str, p: Mapping[str, Any], reason: str) -> str:
    """Why a pair is written: how it was matched (a link) or which side changed (an update), then each conflict
    with its rule and winner, then the fields the mode holds back."""
    if action == Action.LINK:
        how = str(p.get("how") or "name")
        parts = [f"matched by {how.replace('+', ' and ')}"]
    else:
        moved = [side for side, now, base in ((ST, p.get("st_canon"), p.get("st_base")),
                                              (QBO, p.get("qbo_canon"), p.get("qbo_base"))) if now != base]
        parts = [reason + (f" (changed in {' and '.join(moved)})" if moved else "")]
    decided: dict[tuple[str, str], list[str]] = {}
    for c in p.get("conflicts") or []:     # grouped: one phrase per rule and winner
        winner = WINNER.get(str(c.get("winner")), str(c.get("winner")))
        decided.setdefault((str(c.get("rule")), winner), []).append(str(c.get("field")))
    for (rule, winner), fields in decided.items():
        parts.append(f"conflict{'s' if len(fields) > 1 else ''} on {', '.join(fields)}: {rule}, {winner} wins")
    held = p.get("held") or {}
    for side, label, mode in (("qbo", QBO, "an upload"), ("st", ST, "a download")):
        if held.get(side):
            parts.append(f"{label} changes to {', '.join(held[side])} wait: {mode} writes one way")
    return "; ".join(parts)


def _name(canon: Mapping[str, Any] | None) -> str | None:
    return (canon or {}).get("name")


# ----------------------------------------------------------------------------------------------- invoices


def invoice_reviews(rows: Iterable[Mapping[str, Any]], customers: Mapping[int, str] | None = None
                    ) -> list[InvoiceReview]:
    """The review of a run's invoice plan rows. ``customers``: the customer's name per Synchroteam invoice id
    (from the run's staged invoices); without it the row names the QuickBooks customer id it is written to."""
    return [invoice_review(r, (customers or {}).get(int(r["st_id"]))) for r in rows]


def invoice_review(row: Mapping[str, Any], customer: str | None = None) -> InvoiceReview:
    """One stored ``sync.invoice_plan`` row."""
    if customer is None and row.get("qbo_customer_id"):
        customer = f"QuickBooks customer {row['qbo_customer_id']}"
    reason = _join_unique([str(row.get("reason") or ""), str(row.get("note") or ""), str(row.get("error") or "")])
    total = row.get("total")
    return InvoiceReview(int(row["st_id"]), row.get("st_number"), customer,
                         None if total is None else f"{Decimal(total):.2f}", str(row["action"]),
                         str(row.get("status") or "pending"), reason)


def _join_unique(parts: Sequence[str]) -> str:
    """The reason, the report note and the error, each once (a failure's note is "[code] reason")."""
    kept: list[str] = []
    for part in (p for p in parts if p):
        if any(part in k for k in kept):
            continue
        kept = [k for k in kept if k not in part] + [part]
    return "; ".join(kept)


# ----------------------------------------------------------------------------------------------- display and CSV


def shown(value: Any) -> str:
    """A field value as the report and the CSV show it (an empty value is visible as such)."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "active" if value else "inactive"
    return str(value)


CUSTOMER_CSV = ("seq", "action", "status", "st_id", "st_name", "qbo_id", "qbo_name", "why", "field", "written_to",
                "before", "after", "error")
INVOICE_CSV = ("st_id", "number", "customer", "total", "action", "status", "reason")


def customers_csv(records: Sequence[CustomerReview]) -> str:
    """One line per field change (a record without changes has one line with empty change columns)."""
    lines: list[list[Any]] = []
    for r in records:
        head = [r.seq, r.action, r.status, r.st_id, r.st_name, r.qbo_id, r.qbo_name, r.why]
        for c in r.changes or (None,):
            change = ["", "", "", ""] if c is None else [c.field, c.side, shown(c.before), shown(c.after)]
            lines.append(head + change + [r.error])
    return csv_text(CUSTOMER_CSV, lines)


def invoices_csv(records: Sequence[InvoiceReview]) -> str:
    return csv_text(INVOICE_CSV, [[getattr(r, c) for c in INVOICE_CSV] for r in records])


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with every cell made safe to open in a spreadsheet (`safe_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue()


_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Customer names and notes come from two other systems: a cell starting with = + - @ (or a tab / carriage
    return) would run as a formula in a spreadsheet, so it is prefixed with a quote. Plain numbers stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
