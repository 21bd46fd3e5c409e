"""``sync.invoice_plan``: push_invoices' plan, one row per staged Synchroteam invoice of a run (DDL in
``sql/008_invoice_plan.sql``), and what became of each row. Never commits: the caller owns the unit of work.

Rows are plain dicts with the columns below (``stqbo_sync.plan_invoices.InvoicePlanRow.as_dict`` / ``from_dict``
convert them); ``body`` goes into a ``json`` column, which keeps the text, so it is sent byte for byte as planned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2.extras

from stqbo_store import Scope
from stqbo_store.staging import chunks

COLUMNS = ("st_id", "action", "reason", "note", "st_number", "qbo_customer_id", "total", "version", "body",
           "st_modified", "qbo_id", "qbo_docnumber", "failures", "held_state", "error_code", "error_side",
           "error_field", "status", "reported_status")
CHUNK = 1000


def replace(scope: Scope, rows: Sequence[Mapping[str, Any]]) -> int:
    """The run's plan, as a whole: every attempt of the task plans afresh from the ledger."""
    with scope.conn.cursor() as cur:
        cur.execute("DELETE FROM sync.invoice_plan WHERE tenant_id=%s AND run_id=%s", (scope.tenant_id, scope.run_id))
        values = [(scope.tenant_id, scope.run_id, *(_value(r, c) for c in COLUMNS)) for r in rows]
        for chunk in chunks(values, CHUNK):
            psycopg2.extras.execute_values(
                cur, f"INSERT INTO sync.invoice_plan (tenant_id, run_id, {', '.join(COLUMNS)}) VALUES %s", chunk)
    return len(values)


def _value(row: Mapping[str, Any], column: str) -> Any:
    value = row.get(column)
    if column == "body" and value is not None:
        return psycopg2.extras.Json(value)
    if column == "failures":
        return int(value or 0)
    if column in ("reason", "note"):
        return value or ""
    if column == "status":
        return value or "pending"
    return value


def rows(scope: Scope, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The run's rows in Synchroteam id order (the order they are reported and written in)."""
    query = "SELECT * FROM sync.invoice_plan WHERE tenant_id=%s AND run_id=%s"
    params: list[Any] = [scope.tenant_id, scope.run_id]
    if statuses:
        query += " AND status = ANY(%s)"
        params.append(list(statuses))
    with scope.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(query + " ORDER BY st_id", params)
        return [dict(r) for r in cur.fetchall()]


def set_status(scope: Scope, st_id: int, status: str, error: str | None = None) -> None:
    """What became of one row: ``done`` (written, adopted, held or reported), ``failed`` (with the error)."""
    with scope.conn.cursor() as cur:
        cur.execute("UPDATE sync.invoice_plan SET status=%s, error=%s, updated_at=now() "
                    "WHERE tenant_id=%s AND run_id=%s AND st_id=%s",
                    (status, None if error is None else error[:2000], scope.tenant_id, scope.run_id, st_id))
