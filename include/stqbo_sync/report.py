"""The run report: counts per action and side, conflicts with both values, errors, probable duplicates, invoices,
duration. Written to `audit.run` and printed in the task log as readable tables. Never contains a secret."""

from __future__ import annotations

from collections import Counter
from typing import Any

from stqbo_sync.types import Action

# plan actions that write one side only (link and update rows are counted per side they wrote)
ACTION_SIDE = {
    Action.CREATE_QBO: ("create", "QuickBooks"), Action.CREATE_ST: ("create", "Synchroteam"),
    Action.DEACTIVATE_QBO: ("deactivate", "QuickBooks"),
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


def render(summary: dict[str, Any]) -> str:
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
    return "\n".join(parts)
