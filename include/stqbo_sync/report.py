"""The run report: counts per action and side, conflicts with both values, errors, probable duplicates, invoices,
duration, and the plan record by record (`review`). Written to `audit.run` and logged in the task log as one block
(`emit`) of readable tables. Never contains a secret."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from stqbo_sync.review import CustomerReview, InvoiceReview, shown
from stqbo_sync.types import Action

log = logging.getLogger(__name__)
PLAN_LIMIT = 200      # records of each kind listed in the log; the rest are in the audit (sync.plan, the report tab)
VALUE_WIDTH = 60      # a longer value is cut in the log (the audit and the CSV export keep it whole)

# plan actions that write one side only (link and update rows are counted per side they wrote)
ACTION_SIDE = {
    Action.CREATE_QBO: ("create", "QuickBooks"), Action.CREATE_ST: ("create", "Synchroteam"),
    Action.DEACTIVATE_QBO: ("deactivate", "QuickBooks"),
}


# how the Plan section names a customer row's action (the stored values stay as they are, see `types.Action`)
ACTION_LABEL: dict[str, str] = {
    Action.LINK: "link", Action.UPDATE: "update", Action.CREATE_QBO: "create in QuickBooks",
    Action.CREATE_ST: "create in Synchroteam", Action.DEACTIVATE_QBO: "deactivate in QuickBooks",
    Action.AMBIGUOUS: "ambiguous", Action.SKIP: "skip", Action.WARNING: "warning",
}


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table (pipe separated, aligned), readable in the Airflow task log."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def plan_counts(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Customer actions per side: an update row may write to either side or both."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in rows:
        action, status = r["action"], r["status"]
        if action in (Action.UPDATE, Action.LINK):
            p = r["payload"] or {}
            if action == Action.LINK:
                counts[("link", "both", status)] += 1
            if p.get("to_qbo"):
                counts[("update", "QuickBooks", status)] += 1
            if p.get("to_st"):
                counts[("update", "Synchroteam", status)] += 1
            continue
        verb, side = ACTION_SIDE.get(action, (action, "-"))
        counts[(verb, side, status)] += 1
    return [[a, s, st, n] for (a, s, st), n in sorted(counts.items())]


def render(summary: dict[str, Any], customers: Sequence[CustomerReview] = (),
           invoices: Sequence[InvoiceReview] = ()) -> str:
    parts = [f"Run {summary['run_id']} | mode {summary['mode']}{' (dry run: nothing written)' if summary['dry_run'] else ''}"
             f" | tenant {summary['tenant']} | {summary['duration_s']:.1f} s | status {summary['status']}"]
    parts.append("\nCustomers\n" + (table(["action", "side", "status", "count"], summary["customer_counts"])
                                    if summary["customer_counts"] else "nothing to do"))
    inv = summary.get("invoices") or {}
    if inv.get("rows"):
        parts.append("\nInvoices\n" + table(["Synchroteam #", "QuickBooks #", "total", "action", "status", "note"],
                                           inv["rows"]))
    for note in inv.get("notes", []):
        parts.append("note: " + note)
    if summary["conflicts"]:
        parts.append("\nConflicts (decided by the policy)\n" + table(
            ["st_id", "qbo_id", "field", "Synchroteam value", "QuickBooks value", "winner", "rule"],
            [[c["st_id"], c["qbo_id"], c["field"], c["st_value"], c["qbo_value"], c["winner"], c["rule"]]
             for c in summary["conflicts"]]))
    if summary["warnings"]:
        parts.append("\nWarnings\n" + "\n".join("- " + w for w in summary["warnings"]))
    if summary["errors"]:
        parts.append("\nErrors (each record named; the rest of the run went on)\n" + table(
            ["task", "side", "entity", "key", "field", "code", "message"],
            [[e["task"], e["side"], e["entity"], e["record_key"], e["field"], e["code"], e["message"]]
             for e in summary["errors"]]))
    plan = plan_section(customers, invoices)
    if plan:
        parts.append(plan)
    return "\n".join(parts)


def plan_section(customers: Sequence[CustomerReview], invoices: Sequence[InvoiceReview],
                 limit: int = PLAN_LIMIT) -> str:
    """The plan record by record: what each customer row does to which pair and why, each field a link or an
    update writes (before -> after), and each invoice with its customer, total, action and reason. At most
    ``limit`` records of each kind: the rest are named by count."""
    parts = []
    if customers:
        shown_rows = customers[:limit]
        parts.append(f"\nPlan: customers ({len(customers)})\n" + table(
            ["#", "action", "status", "Synchroteam", "QuickBooks", "why"],
            [[r.seq, ACTION_LABEL.get(r.action, r.action), r.status, _who(r.st_id, r.st_name), _who(r.qbo_id, r.qbo_name), _cut(r.why, 160)]
             for r in shown_rows]) + _more(len(customers) - len(shown_rows), "customer", "sync.plan"))
        changes = [[r.seq, c.field, c.side, _cut(shown(c.before)), _cut(shown(c.after))]
                   for r in shown_rows if r.action in (Action.LINK, Action.UPDATE) for c in r.changes]
        if changes:
            parts.append("\nPlan: field changes of links and updates\n" + table(
                ["#", "field", "written to", "before", "after"], changes))
    if invoices:
        shown_inv = invoices[:limit]
        parts.append(f"\nPlan: invoices ({len(invoices)})\n" + table(
            ["Synchroteam #", "customer", "total", "action", "status", "reason"],
            [[r.number or f"(id {r.st_id})", _cut(r.customer or ""), r.total, r.action, r.status, _cut(r.reason, 160)]
             for r in shown_inv]) + _more(len(invoices) - len(shown_inv), "invoice", "sync.invoice_plan"))
    return "\n".join(parts)


def _who(record_id: str | None, name: str | None) -> str:
    if record_id is None and name is None:
        return "-"
    return f"{record_id or '(new)'} {_cut(name or '', 40)}".rstrip()


def _cut(text: str, width: int = VALUE_WIDTH) -> str:
    text = " ".join(text.split())   # one line per row: a value's own line breaks would break the table
    return text if len(text) <= width else text[:width - 3] + "..."


def _more(n: int, kind: str, where: str) -> str:
    return f"\n... and {n} more {kind} records: see the run's stored plan ({where})" if n > 0 else ""


def emit(text: str) -> None:
    """Log the report as ONE record: Airflow writes each record whole, so nothing (its own "Done. Returned value
    was" line, another thread's line) can land inside the report, and the log viewer shows it as one block."""
    log.info("%s", text)
