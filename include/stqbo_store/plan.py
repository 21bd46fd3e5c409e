"""The customer plan of each run (``sync.plan``): one row per action, executed by the customer loader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg2.extras

from stqbo_store import Scope
from stqbo_store.staging import chunks


def replace(s: Scope, rows: Sequence[dict[str, Any]]) -> int:
    """Write this run's plan. Rows already done (a re-run of diff after a partial load) are kept; the rest is
    replaced and numbered after them."""
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM sync.plan WHERE tenant_id=%s AND run_id=%s AND status <> 'done'",
                    (s.tenant_id, s.run_id))
        cur.execute("SELECT coalesce(max(seq), 0) FROM sync.plan WHERE tenant_id=%s AND run_id=%s",
                    (s.tenant_id, s.run_id))
        row = cur.fetchone()
        start = int(row[0]) if row else 0
        values = [
            (s.tenant_id, s.run_id, start + i + 1, str(r["action"]), r.get("st_id"), r.get("qbo_id"),
             json.dumps(r.get("payload") or {}), r.get("reason", ""), r.get("base_hash"), str(r.get("status", "pending")))
            for i, r in enumerate(rows)
        ]
        for chunk in chunks(values, 1000):
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO sync.plan (tenant_id, run_id, seq, action, st_id, qbo_id, payload, reason, base_hash, "
                "status) VALUES %s",
                chunk,
            )
    return len(values)


def rows(s: Scope, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    query = "SELECT * FROM sync.plan WHERE tenant_id=%s AND run_id=%s"
    params: list[Any] = [s.tenant_id, s.run_id]
    if statuses:
        query += " AND status = ANY(%s)"
        params.append(list(statuses))
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(query + " ORDER BY seq", params)
        return [dict(r) for r in cur.fetchall()]


def any_done(s: Scope) -> bool:
    """Whether this run already executed a plan row (its extract and plan are then kept as they are)."""
    with s.conn.cursor() as cur:
        cur.execute("SELECT 1 FROM sync.plan WHERE tenant_id=%s AND run_id=%s AND status='done' LIMIT 1",
                    (s.tenant_id, s.run_id))
        return cur.fetchone() is not None


def set_status(s: Scope, seq: int, status: str, error: str | None = None,
               result: dict[str, Any] | None = None) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "UPDATE sync.plan SET status=%s, error=%s, result=%s, attempts=attempts+1, updated_at=now() "
            "WHERE tenant_id=%s AND run_id=%s AND seq=%s",
            (str(status), error, json.dumps(result) if result is not None else None, s.tenant_id, s.run_id, seq),
        )
