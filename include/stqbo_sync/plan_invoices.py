"""push_invoices, first half: decide what to do with each staged Synchroteam invoice (pure: no DB, no HTTP).

For every invoice of the run the planner gets what the state database and the APIs said before it runs: the
invoice as Synchroteam returned it, its ledger row, the QuickBooks id its customer is linked to, the ItemRef of each
of its part references (finding or creating a QuickBooks item is I/O, so the loader resolves them first, in the same
order the body needs them) and the company settings. It builds the QuickBooks body, fingerprints it (the ledger's
version) and decides ONE action with its reason:

- ``skip``       a draft (no number yet) or a status that is not pushed: reported, read again next run
- ``fail``       its customer is not in QuickBooks yet (real runs), or the body cannot be built (payload, tax code,
                 item): reported as the invoice's error; the next run tries again
- ``unchanged``  this exact version is in QuickBooks: nothing to write (why a second run writes nothing)
- ``held``       paid, voided or deleted in QuickBooks and this version was reported already: stays quiet
- ``hold``       voided or deleted in QuickBooks by a person and changed since in Synchroteam: reported once,
                 never re-created nor rewritten (the version is remembered, so later runs are ``held``)
- ``create``     not in QuickBooks yet (the loader looks for it by its marker first)
- ``update``     in QuickBooks at an older version (the loader re-reads it and holds it if it was paid meanwhile)

In a dry run the same decisions are made; an invoice whose customer is not linked yet is planned anyway (its
customer would be created first) and the rows say so, which is what the dry-run report shows as ``planned``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stqbo_sync import invoice_payload as payload
from stqbo_sync.invoice_payload import DRY_RUN_ITEM, PayloadError, Settings
from stqbo_sync.types import Mode

log = logging.getLogger(__name__)

HELD_STATES = ("paid_in_qbo", "deleted_in_qbo", "voided_in_qbo")
GONE_STATES = ("deleted_in_qbo", "voided_in_qbo")

ItemRef = Mapping[str, str]     # {"value": <Item Id>} (dry run, an item to create: {"value": "0", "name": ...})


class InvoiceAction(StrEnum):
    """What the loader does with one invoice. Stored in ``sync.invoice_plan.action``: never rename one."""

    CREATE = "create"          # not in QuickBooks yet: look for it by its marker, else create it
    UPDATE = "update"          # in QuickBooks at an older version: re-read, then a sparse update (or hold)
    UNCHANGED = "unchanged"    # this version is in QuickBooks: nothing to write
    HELD = "held"              # paid/voided/deleted in QuickBooks, this version already reported: quiet
    HOLD = "hold"              # voided/deleted in QuickBooks, changed since: reported once, not written
    SKIP = "skip"              # not eligible (draft, status): reported
    FAIL = "fail"              # cannot be planned (customer not in QuickBooks, payload, item): an error


WRITES = (InvoiceAction.CREATE, InvoiceAction.UPDATE)


@dataclass(frozen=True)
class Failure:
    """Why an invoice cannot be written this run, as the errors table records it."""

    code: str | None
    message: str
    side: str = "connector"         # connector | quickbooks | synchroteam
    field: str | None = None

    @property
    def note(self) -> str:
        """The report row's note (and the ledger's ``last_error``)."""
        return f"[{self.code}] {self.message}"


@dataclass(frozen=True)
class StagedInvoice:
    """One invoice and the facts the planner needs about it, read before planning.

    ``items``: the ItemRef of each part reference of its priced lines (``""`` for lines without a part), as the
    loader resolved them for this invoice; ``item_failure``: why they could not all be resolved."""

    st_id: int
    invoice: dict[str, Any]
    ledger: dict[str, Any] | None = None
    customer_id: str | None = None
    items: Mapping[str, ItemRef] = field(default_factory=dict)
    item_failure: Failure | None = None


@dataclass(frozen=True)
class PlanInputs:
    mode: Mode
    dry_run: bool
    settings: Settings
    invoices: Sequence[StagedInvoice]
    eligible: frozenset[str] = payload.eligible_keys()   # status keys pushed (option invoice_statuses)


@dataclass(frozen=True)
class InvoicePlanRow:
    """One invoice's plan: the action and why, the body to write and its version, and the facts the loader needs
    to write it, report it and ledger it without reading the invoice again.

    ``note`` is what the report row says when the plan itself is the outcome (skips, holds, failures, and every
    row of a dry run); ``qbo_id`` / ``qbo_docnumber`` / ``failures`` / ``held_state`` are the ledger's (the
    failures so far are part of every request id)."""

    st_id: int
    action: InvoiceAction
    reason: str
    number: str | None = None
    total: Decimal | None = None
    customer_id: str | None = None
    body: dict[str, Any] | None = None
    version: str | None = None
    note: str = ""
    st_modified: str | None = None
    qbo_id: str | None = None
    qbo_docnumber: str | None = None
    failures: int = 0
    held_state: str | None = None
    failure: Failure | None = None
    reported_status: str | None = None   # a status not pushed, to remember once it is reported

    @property
    def writes(self) -> bool:
        return self.action in WRITES

    def as_dict(self) -> dict[str, Any]:
        """The row as ``stqbo_store.invoice_plan`` stores it (plain values)."""
        f = self.failure
        return {"st_id": self.st_id, "action": str(self.action), "reason": self.reason, "st_number": self.number,
                "total": self.total, "qbo_customer_id": self.customer_id, "body": self.body,
                "version": self.version, "note": self.note, "st_modified": self.st_modified, "qbo_id": self.qbo_id,
                "qbo_docnumber": self.qbo_docnumber, "failures": self.failures, "held_state": self.held_state,
                "error_code": f.code if f else None, "error_side": f.side if f else None,
                "error_field": f.field if f else None, "reported_status": self.reported_status,
                "status": "pending" if self.action in (*WRITES, InvoiceAction.HOLD, InvoiceAction.FAIL) else "info"}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> InvoicePlanRow:
        """A stored row (extra columns such as ``status`` are ignored)."""
        action, reason = InvoiceAction(row["action"]), row.get("reason") or ""
        failure = None
        if action == InvoiceAction.FAIL:   # its reason is the error message
            failure = Failure(row.get("error_code"), reason, row.get("error_side") or "connector", row.get("error_field"))
        total = row.get("total")
        return cls(st_id=int(row["st_id"]), action=action, reason=reason,
                   number=row.get("st_number"), total=None if total is None else Decimal(total),
                   customer_id=row.get("qbo_customer_id"), body=row.get("body"), version=row.get("version"),
                   note=row.get("note") or "", st_modified=row.get("st_modified"), qbo_id=row.get("qbo_id"),
                   qbo_docnumber=row.get("qbo_docnumber"), failures=int(row.get("failures") or 0),
                   held_state=row.get("held_state"), failure=failure, reported_status=row.get("reported_status"))


def mode_note(mode: Mode) -> str | None:
    """The run note of a mode that pushes no invoice (None: sync, which does)."""
    if mode == Mode.SYNC:
        return None
    return f"{mode} mode moves customers only: invoices are pushed by sync runs"


def build(inp: PlanInputs) -> list[InvoicePlanRow]:
    """One row per invoice, in Synchroteam id order (the order the loader reports and writes them in)."""
    if inp.mode != Mode.SYNC:
        return []
    return [plan_invoice(s, inp.settings, inp.dry_run, inp.eligible) for s in sorted(inp.invoices, key=lambda s: s.st_id)]


def plan_invoice(s: StagedInvoice, settings: Settings, dry_run: bool,
                 eligible: frozenset[str] = payload.eligible_keys()) -> InvoicePlanRow:
    invoice = s.invoice
    number, total = payload.st_number(invoice), payload.money(invoice.get("total"))
    ledger = s.ledger or {}
    skip = payload.skip_reason(invoice, eligible)
    if skip:
        status = payload.unknown_status(invoice, eligible)
        if status is not None and ledger.get("reported_status") == status:
            return InvoicePlanRow(s.st_id, InvoiceAction.HELD, f"status '{status}' was reported already", number,
                                  total)
        return InvoicePlanRow(s.st_id, InvoiceAction.SKIP, skip, number, total, note=skip, reported_status=status)
    row = InvoicePlanRow(s.st_id, InvoiceAction.FAIL, "", number, total, customer_id=s.customer_id,
                         st_modified=invoice.get("dateModified"), qbo_id=_text(ledger.get("qbo_id")),
                         qbo_docnumber=ledger.get("qbo_docnumber"), failures=int(ledger.get("failures") or 0))
    built = _unplannable(s, dry_run) or _body(s, settings)
    if isinstance(built, Failure):
        return replace(row, reason=built.message, note=built.note, failure=built)
    return _decide(s, replace(row, body=built, version=payload.fingerprint(built)), ledger)


def _unplannable(s: StagedInvoice, dry_run: bool) -> Failure | None:
    """A real run cannot write an invoice whose customer is not in QuickBooks (its create failed this run)."""
    if s.customer_id is None and not dry_run:
        customer = s.invoice.get("customer") or {}
        return Failure("customer_not_synced",
                       f"its customer '{customer.get('name')}' (Synchroteam {customer.get('id')}) is not in "
                       "QuickBooks yet (see this run's customer errors); the invoice is retried next run",
                       field="customer")
    return s.item_failure


def _body(s: StagedInvoice, settings: Settings) -> dict[str, Any] | Failure:
    """The QuickBooks body with the items the loader resolved; a body that cannot be built is the invoice's
    failure (a bug or bad data in one invoice must not stop the others)."""
    def item_for(part_ref: str, line: dict[str, Any]) -> dict[str, str]:
        return dict(s.items[part_ref.strip()])

    try:
        return payload.build_invoice(s.invoice, s.customer_id or "0", item_for, settings)
    except PayloadError as err:
        return Failure(err.code, str(err), "connector", err.field)
    except Exception as err:
        log.exception("invoice %s failed", s.st_id)
        return Failure("internal", f"{type(err).__name__}: {err}")


def _decide(s: StagedInvoice, row: InvoicePlanRow, ledger: dict[str, Any]) -> InvoicePlanRow:
    """With the version known: what the ledger says is in QuickBooks decides the action."""
    version, state = row.version, ledger.get("state")
    if row.qbo_id and ledger.get("version") == version and state == "done":
        return replace(row, action=InvoiceAction.UNCHANGED, reason=f"version {version} is in QuickBooks")
    if state in HELD_STATES and ledger.get("pending_version") == version:
        return replace(row, action=InvoiceAction.HELD,
                       reason=f"{state}: version {version} was reported already; a person has to act")
    if state in GONE_STATES:
        why = ledger.get("last_error") or ""      # what the ledger keeps; the report falls back to the state
        return replace(row, action=InvoiceAction.HOLD, reason=why, note=why or str(state), held_state=state)
    if row.qbo_id:
        action, reason = InvoiceAction.UPDATE, f"changed since version {ledger.get('version')} was pushed"
    else:
        action, reason = InvoiceAction.CREATE, "not in QuickBooks yet"
    return replace(row, action=action, reason=reason, note=_planned_note(s, row.body or {}))


def _planned_note(s: StagedInvoice, body: dict[str, Any]) -> str:
    """What a dry run's row says besides ``planned`` (empty in a real run: customers and items exist by then)."""
    customer = s.invoice.get("customer") or {}
    notes = [] if s.customer_id else [f"customer '{customer.get('name')}' is linked or created first"]
    refs = {str(ln.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("value")) for ln in body.get("Line") or []}
    if DRY_RUN_ITEM in refs:
        notes.append("new QuickBooks items are created first")
    return "; ".join(notes)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
