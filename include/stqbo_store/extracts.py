"""What each run read (``sync.run_extract``) and the watermarks it may advance (``sync.watermark``).

A run proposes a next watermark per (side, entity) when it extracts; the watermark advances only over extracts a
plan was built from and only when the run's writes committed (`commit_watermarks`), never backwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.extras

from stqbo_store import Scope


def get_watermark(s: Scope, side: str, entity: str) -> str | None:
    with s.conn.cursor() as cur:
        cur.execute("SELECT value FROM sync.watermark WHERE tenant_id=%s AND side=%s AND entity=%s",
                    (s.tenant_id, side, entity))
        row = cur.fetchone()
    return None if row is None else str(row[0])


def record_extract(s: Scope, side: str, entity: str, full_read: bool, count: int,
                   next_watermark: str | None) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.run_extract (tenant_id, run_id, side, entity, full_read, record_count, next_watermark) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, run_id, side, entity) DO UPDATE SET "
            "full_read=EXCLUDED.full_read, record_count=EXCLUDED.record_count, "
            "next_watermark=EXCLUDED.next_watermark, extracted_at=now(), planned=false, completed=false",
            (s.tenant_id, s.run_id, side, entity, full_read, count, next_watermark),
        )


def run_extracts(s: Scope) -> dict[tuple[str, str], dict[str, Any]]:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM sync.run_extract WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))
        return {(r["side"], r["entity"]): dict(r) for r in cur.fetchall()}


def hold_watermarks(s: Scope, entities: set[str]) -> None:
    """This run's window of these entities is read again next run (some of their records failed)."""
    with s.conn.cursor() as cur:
        cur.execute("UPDATE sync.run_extract SET next_watermark = NULL WHERE tenant_id=%s AND run_id=%s "
                    "AND entity = ANY(%s)", (s.tenant_id, s.run_id, sorted(entities)))


def commit_watermarks(s: Scope) -> int:
    """Advance each watermark to what this run read; never move one backwards (an old run re-run late)."""
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.watermark (tenant_id, side, entity, value) "
            "SELECT tenant_id, side, entity, next_watermark FROM sync.run_extract "
            "WHERE tenant_id=%s AND run_id=%s AND next_watermark IS NOT NULL AND planned "
            "ON CONFLICT (tenant_id, side, entity) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
            "WHERE sync.watermark.value < EXCLUDED.value",
            (s.tenant_id, s.run_id),
        )
        return cur.rowcount


def last_full_read(s: Scope, side: str, entity: str) -> datetime | None:
    """When a full read of this entity was last made by a run that completed (not a dry run)."""
    with s.conn.cursor() as cur:
        cur.execute(
            "SELECT max(e.extracted_at) FROM sync.run_extract e JOIN audit.run r USING (tenant_id, run_id) "
            "WHERE e.tenant_id=%s AND e.side=%s AND e.entity=%s AND e.full_read AND e.completed AND NOT r.dry_run",
            (s.tenant_id, side, entity),
        )
        row = cur.fetchone()
    return row[0] if row else None


def mark_planned(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("UPDATE sync.run_extract SET planned = true WHERE tenant_id=%s AND run_id=%s",
                    (s.tenant_id, s.run_id))


def mark_completed(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("UPDATE sync.run_extract SET completed = true WHERE tenant_id=%s AND run_id=%s AND planned",
                    (s.tenant_id, s.run_id))
