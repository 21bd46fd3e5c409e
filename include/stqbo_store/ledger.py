"""The invoice ledger (``ledger.invoice``) and each run's invoice rows and notes (DDL in sql/002_invoices.sql).

The ledger makes each Synchroteam invoice reach QuickBooks once: the write about to be sent (`start_write`) is
committed by the invoice loader *before* the request, so a crash between request and reply always leaves a trace
that forces a look-before-create.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg2.extras

from stqbo_store import Scope


def get(s: Scope, st_id: int) -> dict[str, Any] | None:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice WHERE tenant_id=%s AND st_id=%s", (s.tenant_id, st_id))
        row = cur.fetchone()
    return dict(row) if row else None


def all_rows(s: Scope) -> dict[int, dict[str, Any]]:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice WHERE tenant_id=%s", (s.tenant_id,))
        return {int(r["st_id"]): dict(r) for r in cur.fetchall()}


def start_write(s: Scope, st_id: int, st_number: str | None, version: str, request_id: str,
                customer_id: str) -> None:
    """Record the write about to be sent (attempts + 1); committed by the caller before the request goes out."""
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice (tenant_id, st_id, st_number, qbo_customer_id, pending_version, request_id, "
            "attempts, run_id) VALUES (%s,%s,%s,%s,%s,%s,1,%s) ON CONFLICT (tenant_id, st_id) DO UPDATE SET "
            "st_number=EXCLUDED.st_number, qbo_customer_id=EXCLUDED.qbo_customer_id, "
            "pending_version=EXCLUDED.pending_version, request_id=EXCLUDED.request_id, "
            "attempts=ledger.invoice.attempts + 1, run_id=EXCLUDED.run_id, updated_at=now()",
            (s.tenant_id, st_id, st_number, customer_id, version, request_id, s.run_id),
        )


def set_request_id(s: Scope, st_ids: list[int], request_id: str) -> None:
    """The invoices about to go out in one batch request share its request id."""
    with s.conn.cursor() as cur:
        cur.execute("UPDATE ledger.invoice SET request_id=%s, updated_at=now() WHERE tenant_id=%s AND st_id = ANY(%s)",
                    (request_id, s.tenant_id, st_ids))


def finish(s: Scope, st_id: int, obj: dict[str, Any], version: str, st_total: Decimal,
           st_modified: str | None) -> None:
    """The invoice now stands in QuickBooks as ``obj`` for payload ``version``."""
    with s.conn.cursor() as cur:
        cur.execute(
            "UPDATE ledger.invoice SET qbo_id=%s, qbo_docnumber=%s, version=%s, pending_version=NULL, state='done', "
            "last_error=NULL, st_total=%s, qbo_total=%s, st_modified=%s, run_id=%s, pushed_at=now(), "
            "updated_at=now() WHERE tenant_id=%s AND st_id=%s",
            (str(obj["Id"]), obj.get("DocNumber"), version, st_total, Decimal(str(obj.get("TotalAmt", 0))),
             st_modified, s.run_id, s.tenant_id, st_id),
        )


def fail(s: Scope, st_id: int, st_number: str | None, message: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice (tenant_id, st_id, st_number, state, last_error, failures) "
            "VALUES (%s,%s,%s,'failed',%s,1) "
            "ON CONFLICT (tenant_id, st_id) DO UPDATE SET state=CASE WHEN ledger.invoice.qbo_id IS NULL "
            "THEN 'failed' ELSE ledger.invoice.state END, last_error=EXCLUDED.last_error, "
            "failures=ledger.invoice.failures + 1, updated_at=now()",
            (s.tenant_id, st_id, st_number, message[:2000]),
        )


def note_status(s: Scope, st_id: int, st_number: str | None, status: str) -> None:
    """The invoice was reported as not pushed because of its Synchroteam status: later runs stay quiet about it."""
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice (tenant_id, st_id, st_number, reported_status, run_id) VALUES (%s,%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, st_id) DO UPDATE SET reported_status=EXCLUDED.reported_status, updated_at=now()",
            (s.tenant_id, st_id, st_number, status, s.run_id),
        )


def set_state(s: Scope, st_id: int, state: str, note: str, held_version: str) -> None:
    """A state a person must look at (paid, deleted or voided in QuickBooks): kept, reported, not rewritten.

    ``held_version`` (kept in ``pending_version``) is the Synchroteam version that was not applied: it is reported
    once; later runs that read the same version again stay quiet."""
    with s.conn.cursor() as cur:
        cur.execute("UPDATE ledger.invoice SET state=%s, last_error=%s, pending_version=%s, updated_at=now() "
                    "WHERE tenant_id=%s AND st_id=%s", (state, note[:2000], held_version, s.tenant_id, st_id))


# ----------------------------------------------------------------------------------------------- run rows


def put_run_row(s: Scope, st_id: int, *, st_number: str | None, qbo_id: str | None, qbo_docnumber: str | None,
                total: Decimal | None, qbo_total: Decimal | None, action: str, status: str, note: str = "") -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice_run (tenant_id, run_id, st_id, st_number, qbo_id, qbo_docnumber, total, "
            "qbo_total, action, status, note) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, run_id, st_id) DO UPDATE SET st_number=EXCLUDED.st_number, "
            "qbo_id=EXCLUDED.qbo_id, qbo_docnumber=EXCLUDED.qbo_docnumber, total=EXCLUDED.total, "
            "qbo_total=EXCLUDED.qbo_total, action=EXCLUDED.action, status=EXCLUDED.status, note=EXCLUDED.note, "
            "updated_at=now()",
            (s.tenant_id, s.run_id, st_id, st_number, qbo_id, qbo_docnumber, total, qbo_total, str(action),
             str(status), note[:500]),
        )


def run_rows(s: Scope) -> list[dict[str, Any]]:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice_run WHERE tenant_id=%s AND run_id=%s "
                    "ORDER BY CASE WHEN st_number ~ '^[0-9]+$' THEN st_number::bigint END, st_number, st_id",
                    (s.tenant_id, s.run_id))
        return [dict(r) for r in cur.fetchall()]


def clear_run(s: Scope) -> None:
    """Start the run's rows afresh, except those of invoices already written in this run."""
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM ledger.invoice_run WHERE tenant_id=%s AND run_id=%s "
                    "AND status NOT IN ('pushed', 'updated')", (s.tenant_id, s.run_id))
        cur.execute("DELETE FROM ledger.invoice_run_note WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))


def add_note(s: Scope, note: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute("INSERT INTO ledger.invoice_run_note (tenant_id, run_id, note) VALUES (%s,%s,%s) "
                    "ON CONFLICT DO NOTHING", (s.tenant_id, s.run_id, note))


def notes(s: Scope) -> list[str]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT note FROM ledger.invoice_run_note WHERE tenant_id=%s AND run_id=%s ORDER BY note",
                    (s.tenant_id, s.run_id))
        return [str(r[0]) for r in cur.fetchall()]
