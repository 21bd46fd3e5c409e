"""The invoice ledger, item links and per-run invoice rows in PostgreSQL (DDL in sql/002_invoices.sql).

Transaction control stays with the caller, except that `invoices.push` commits `start_write` *before* it sends a
create, so that a crash between the request and its reply always leaves a trace that forces a look-before-create.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg2.extras

from stqbo_sync import store

LEDGER_COLUMNS = ("st_id", "st_number", "qbo_id", "qbo_docnumber", "qbo_customer_id", "version", "pending_version",
                  "request_id", "state", "attempts", "failures", "last_error", "st_total", "qbo_total", "st_modified",
                  "run_id")


def get(conn: store.Conn, tenant_id: int, st_id: int) -> dict[str, Any] | None:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice WHERE tenant_id=%s AND st_id=%s", (tenant_id, st_id))
        row = cur.fetchone()
    return dict(row) if row else None


def all_rows(conn: store.Conn, tenant_id: int) -> dict[int, dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice WHERE tenant_id=%s", (tenant_id,))
        return {int(r["st_id"]): dict(r) for r in cur.fetchall()}


def start_write(conn: store.Conn, tenant_id: int, st_id: int, st_number: str | None, version: str,
                request_id: str, customer_id: str, run_id: str) -> None:
    """Record the write about to be sent (attempts + 1); committed by the caller before the request goes out."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice (tenant_id, st_id, st_number, qbo_customer_id, pending_version, request_id, "
            "attempts, run_id) VALUES (%s,%s,%s,%s,%s,%s,1,%s) ON CONFLICT (tenant_id, st_id) DO UPDATE SET "
            "st_number=EXCLUDED.st_number, qbo_customer_id=EXCLUDED.qbo_customer_id, "
            "pending_version=EXCLUDED.pending_version, request_id=EXCLUDED.request_id, "
            "attempts=ledger.invoice.attempts + 1, run_id=EXCLUDED.run_id, updated_at=now()",
            (tenant_id, st_id, st_number, customer_id, version, request_id, run_id),
        )


def set_request_id(conn: store.Conn, tenant_id: int, st_ids: list[int], request_id: str) -> None:
    """The invoices about to go out in one batch request share its request id."""
    with conn.cursor() as cur:
        cur.execute("UPDATE ledger.invoice SET request_id=%s, updated_at=now() WHERE tenant_id=%s AND st_id = ANY(%s)",
                    (request_id, tenant_id, st_ids))


def finish(conn: store.Conn, tenant_id: int, st_id: int, obj: dict[str, Any], version: str,
           st_total: Decimal, st_modified: str | None, run_id: str) -> None:
    """The invoice now stands in QuickBooks as ``obj`` for payload ``version``."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ledger.invoice SET qbo_id=%s, qbo_docnumber=%s, version=%s, pending_version=NULL, state='done', "
            "last_error=NULL, st_total=%s, qbo_total=%s, st_modified=%s, run_id=%s, pushed_at=now(), "
            "updated_at=now() WHERE tenant_id=%s AND st_id=%s",
            (str(obj["Id"]), obj.get("DocNumber"), version, st_total, Decimal(str(obj.get("TotalAmt", 0))),
             st_modified, run_id, tenant_id, st_id),
        )


def fail(conn: store.Conn, tenant_id: int, st_id: int, st_number: str | None, message: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice (tenant_id, st_id, st_number, state, last_error, failures) "
            "VALUES (%s,%s,%s,'failed',%s,1) "
            "ON CONFLICT (tenant_id, st_id) DO UPDATE SET state=CASE WHEN ledger.invoice.qbo_id IS NULL "
            "THEN 'failed' ELSE ledger.invoice.state END, last_error=EXCLUDED.last_error, "
            "failures=ledger.invoice.failures + 1, updated_at=now()",
            (tenant_id, st_id, st_number, message[:2000]),
        )


def set_state(conn: store.Conn, tenant_id: int, st_id: int, state: str, note: str, held_version: str) -> None:
    """A state a person must look at (paid, deleted or voided in QuickBooks): kept, reported, not rewritten.

    ``held_version`` (kept in ``pending_version``) is the Synchroteam version that was not applied: it is reported
    once; later runs that read the same version again stay quiet."""
    with conn.cursor() as cur:
        cur.execute("UPDATE ledger.invoice SET state=%s, last_error=%s, pending_version=%s, updated_at=now() "
                    "WHERE tenant_id=%s AND st_id=%s", (state, note[:2000], held_version, tenant_id, st_id))


# ----------------------------------------------------------------------------------------------- item links


def item_links(conn: store.Conn, tenant_id: int) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT part_ref, qbo_item_id FROM mapping.item_link WHERE tenant_id=%s", (tenant_id,))
        return {str(r[0]): str(r[1]) for r in cur.fetchall()}


def add_item_link(conn: store.Conn, tenant_id: int, part_ref: str, qbo_item_id: str, linked_by: str,
                  run_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.item_link (tenant_id, part_ref, qbo_item_id, linked_by, run_id) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, part_ref) DO UPDATE SET qbo_item_id=EXCLUDED.qbo_item_id, "
            "linked_by=EXCLUDED.linked_by, run_id=EXCLUDED.run_id",
            (tenant_id, part_ref, qbo_item_id, linked_by, run_id),
        )


def drop_item_links(conn: store.Conn, tenant_id: int, qbo_item_ids: list[str]) -> None:
    """Forget links to items QuickBooks refused (deleted or made inactive): the next run resolves them again."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM mapping.item_link WHERE tenant_id=%s AND qbo_item_id = ANY(%s)",
                    (tenant_id, qbo_item_ids))


# ----------------------------------------------------------------------------------------------- run rows


def put_run_row(conn: store.Conn, tenant_id: int, run_id: str, st_id: int, *, st_number: str | None,
                qbo_id: str | None, qbo_docnumber: str | None, total: Decimal | None, qbo_total: Decimal | None,
                action: str, status: str, note: str = "") -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger.invoice_run (tenant_id, run_id, st_id, st_number, qbo_id, qbo_docnumber, total, "
            "qbo_total, action, status, note) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, run_id, st_id) DO UPDATE SET st_number=EXCLUDED.st_number, "
            "qbo_id=EXCLUDED.qbo_id, qbo_docnumber=EXCLUDED.qbo_docnumber, total=EXCLUDED.total, "
            "qbo_total=EXCLUDED.qbo_total, action=EXCLUDED.action, status=EXCLUDED.status, note=EXCLUDED.note, "
            "updated_at=now()",
            (tenant_id, run_id, st_id, st_number, qbo_id, qbo_docnumber, total, qbo_total, action, status, note[:500]),
        )


def run_rows(conn: store.Conn, tenant_id: int, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM ledger.invoice_run WHERE tenant_id=%s AND run_id=%s "
                    "ORDER BY CASE WHEN st_number ~ '^[0-9]+$' THEN st_number::bigint END, st_number, st_id",
                    (tenant_id, run_id))
        return [dict(r) for r in cur.fetchall()]


def clear_run(conn: store.Conn, tenant_id: int, run_id: str) -> None:
    """Start the run's rows afresh, except those of invoices already written in this run."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM ledger.invoice_run WHERE tenant_id=%s AND run_id=%s "
                    "AND status NOT IN ('pushed', 'updated')", (tenant_id, run_id))
        cur.execute("DELETE FROM ledger.invoice_run_note WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))


def add_note(conn: store.Conn, tenant_id: int, run_id: str, note: str) -> None:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ledger.invoice_run_note (tenant_id, run_id, note) VALUES (%s,%s,%s) "
                    "ON CONFLICT DO NOTHING", (tenant_id, run_id, note))


def notes(conn: store.Conn, tenant_id: int, run_id: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT note FROM ledger.invoice_run_note WHERE tenant_id=%s AND run_id=%s ORDER BY note",
                    (tenant_id, run_id))
        return [str(r[0]) for r in cur.fetchall()]
