"""The state DB (PostgreSQL): migrations, tenants, the run lease, staging, links, bases, plan rows and errors.

Every function takes an open psycopg2 connection and leaves transaction control to the caller unless its name
says otherwise (``*_committed``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

log = logging.getLogger(__name__)

Conn = psycopg2.extensions.connection
SQL_DIR = Path(__file__).resolve().parent / "sql"
MIGRATION_LOCK = 0x5751B0  # advisory lock key: one migrator at a time
LEASE_TTL = timedelta(hours=2)
STAGING_RETENTION = timedelta(days=14)


class TenantBusy(RuntimeError):
    """Another run holds this tenant's lease; this run must wait (the task is retried later)."""


def connect(dsn: str) -> Conn:
    conn = psycopg2.connect(dsn, application_name="stqbo_sync")
    conn.autocommit = False
    return conn


# ----------------------------------------------------------------------------------------------- migrations


def migrate(conn: Conn) -> list[str]:
    """Apply the numbered SQL files not yet applied, in order, each in its own transaction (idempotent)."""
    applied: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS sync")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS sync.schema_version (version text PRIMARY KEY, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version FROM sync.schema_version")
            done = {row[0] for row in cur.fetchall()}
        conn.commit()
        for path in sorted(SQL_DIR.glob("[0-9][0-9][0-9]_*.sql")):
            if path.stem in done:
                continue
            with conn.cursor() as cur:
                cur.execute(path.read_text())
                cur.execute("INSERT INTO sync.schema_version (version) VALUES (%s)", (path.stem,))
            conn.commit()
            applied.append(path.stem)
            log.info("applied migration %s", path.stem)
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.commit()
    return applied


# ----------------------------------------------------------------------------------------------- tenants, lease


def ensure_tenant(conn: Conn, st_domain: str, realm_id: str, environment: str, base_url: str) -> int:
    """The tenant of (Synchroteam domain, QuickBooks realm): a new realm is a new tenant with a clean mapping.
    Its environment is recorded once; a connection that later names another one for the same realm is reported
    (realm ids are unique at Intuit, so it is the same company and a mis-set host), never silently rewritten."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.tenant (st_domain, qbo_realm_id, qbo_environment, qbo_base_url) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (st_domain, qbo_realm_id) DO NOTHING",
            (st_domain, realm_id, environment, base_url),
        )
        cur.execute("SELECT tenant_id, qbo_environment FROM sync.tenant WHERE st_domain=%s AND qbo_realm_id=%s",
                    (st_domain, realm_id))
        row = cur.fetchone()
        assert row is not None
    if row[1] != environment:
        log.warning("QuickBooks realm %s was first connected as %s; the connection now says %s. Same company "
                    "(realm ids are unique): check the quickbooks_default host/environment.", realm_id, row[1],
                    environment)
    return int(row[0])


def acquire_lease(conn: Conn, tenant_id: int, run_id: str, wait_seconds: float = 0.0, poll: float = 2.0) -> None:
    """Take the tenant's run lease for ``run_id`` (re-entrant for the same run; an expired lease is taken over).

    Raises `TenantBusy` when another live run holds it after ``wait_seconds``.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sync.lease (tenant_id, run_id) VALUES (%s, %s) "
                "ON CONFLICT (tenant_id) DO UPDATE SET run_id = EXCLUDED.run_id, acquired_at = now(), heartbeat = now() "
                "WHERE sync.lease.run_id = EXCLUDED.run_id OR sync.lease.heartbeat < now() - %s "
                "RETURNING run_id",
                (tenant_id, run_id, LEASE_TTL),
            )
            got = cur.fetchone() is not None
            holder = None
            if not got:
                cur.execute("SELECT run_id, heartbeat FROM sync.lease WHERE tenant_id = %s", (tenant_id,))
                holder = cur.fetchone()
        conn.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise TenantBusy(
                f"run {holder[0] if holder else '?'} is still working on this tenant (last heartbeat "
                f"{holder[1] if holder else '?'}); this run will be retried. A lease expires after {LEASE_TTL}."
            )
        time.sleep(poll)


def check_lease(conn: Conn, tenant_id: int, run_id: str) -> None:
    """Every task after the first verifies it still holds the lease (and refreshes the heartbeat)."""
    acquire_lease(conn, tenant_id, run_id, wait_seconds=0)


def release_lease(conn: Conn, tenant_id: int, run_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sync.lease WHERE tenant_id = %s AND run_id = %s", (tenant_id, run_id))
    conn.commit()


# ----------------------------------------------------------------------------------------------- watermarks


def get_watermark(conn: Conn, tenant_id: int, side: str, entity: str) -> str | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT value FROM sync.watermark WHERE tenant_id=%s AND side=%s AND entity=%s", (tenant_id, side, entity)
        )
        row = cur.fetchone()
    return None if row is None else str(row[0])


def record_extract(conn: Conn, tenant_id: int, run_id: str, side: str, entity: str, full_read: bool,
                   count: int, next_watermark: str | None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.run_extract (tenant_id, run_id, side, entity, full_read, record_count, next_watermark) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, run_id, side, entity) DO UPDATE SET "
            "full_read=EXCLUDED.full_read, record_count=EXCLUDED.record_count, "
            "next_watermark=EXCLUDED.next_watermark, extracted_at=now(), planned=false, completed=false",
            (tenant_id, run_id, side, entity, full_read, count, next_watermark),
        )


def run_extracts(conn: Conn, tenant_id: int, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM sync.run_extract WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))
        return {(r["side"], r["entity"]): dict(r) for r in cur.fetchall()}


def commit_watermarks(conn: Conn, tenant_id: int, run_id: str) -> int:
    """Advance each watermark to what this run read; never move one backwards (an old run re-run late)."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.watermark (tenant_id, side, entity, value) "
            "SELECT tenant_id, side, entity, next_watermark FROM sync.run_extract "
            "WHERE tenant_id=%s AND run_id=%s AND next_watermark IS NOT NULL AND planned "
            "ON CONFLICT (tenant_id, side, entity) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
            "WHERE sync.watermark.value < EXCLUDED.value",
            (tenant_id, run_id),
        )
        return cur.rowcount


def last_full_read(conn: Conn, tenant_id: int, side: str, entity: str) -> datetime | None:
    """When a full read of this entity was last made by a run that completed (not a dry run)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT max(e.extracted_at) FROM sync.run_extract e JOIN audit.run r USING (tenant_id, run_id) "
            "WHERE e.tenant_id=%s AND e.side=%s AND e.entity=%s AND e.full_read AND e.completed AND NOT r.dry_run",
            (tenant_id, side, entity),
        )
        row = cur.fetchone()
    return row[0] if row else None


def mark_extracts_planned(conn: Conn, tenant_id: int, run_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE sync.run_extract SET planned = true WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))


def mark_extracts_completed(conn: Conn, tenant_id: int, run_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE sync.run_extract SET completed = true WHERE tenant_id=%s AND run_id=%s AND planned",
                    (tenant_id, run_id))


# ----------------------------------------------------------------------------------------------- staging


STAGING_KEYS = {"st_customer": "st_id", "qbo_customer": "qbo_id", "st_invoice": "st_id"}


def replace_staged(conn: Conn, table: str, tenant_id: int, run_id: str, records: Iterable[tuple[Any, dict[str, Any]]]) -> int:
    """Replace this run's staged rows of one table (a re-run of an extract starts clean)."""
    key = STAGING_KEYS[table]
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM staging.{table} WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))
    return add_staged(conn, table, tenant_id, run_id, records, key)


def add_staged(conn: Conn, table: str, tenant_id: int, run_id: str, records: Iterable[tuple[Any, dict[str, Any]]],
               key: str | None = None) -> int:
    key = key or STAGING_KEYS[table]
    count = 0
    with conn.cursor() as cur:
        for chunk in _chunks(records, 1000):
            psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO staging.{table} (tenant_id, run_id, {key}, payload) VALUES %s "
                f"ON CONFLICT (tenant_id, run_id, {key}) DO UPDATE SET payload = EXCLUDED.payload",
                [(tenant_id, run_id, rid, json.dumps(obj)) for rid, obj in chunk],
            )
            count += len(chunk)
    return count


def staged(conn: Conn, table: str, tenant_id: int, run_id: str) -> list[tuple[Any, dict[str, Any]]]:
    key = STAGING_KEYS[table]
    with conn.cursor() as cur:
        cur.execute(f"SELECT {key}, payload FROM staging.{table} WHERE tenant_id=%s AND run_id=%s ORDER BY {key}",
                    (tenant_id, run_id))
        return [(r[0], r[1]) for r in cur.fetchall()]


def replace_other_names(conn: Conn, tenant_id: int, run_id: str, rows: Iterable[tuple[str, str, str]]) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM staging.qbo_other_name WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO staging.qbo_other_name (tenant_id, run_id, entity, qbo_id, display_name) VALUES %s "
            "ON CONFLICT DO NOTHING",
            [(tenant_id, run_id, e, i, n) for e, i, n in rows],
        )


def other_names(conn: Conn, tenant_id: int, run_id: str) -> list[tuple[str, str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT entity, qbo_id, display_name FROM staging.qbo_other_name WHERE tenant_id=%s AND run_id=%s",
                    (tenant_id, run_id))
        return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def purge_old_staging(conn: Conn, keep: timedelta = STAGING_RETENTION) -> None:
    with conn.cursor() as cur:
        for table in (*STAGING_KEYS, "qbo_other_name"):
            if table == "qbo_other_name":
                cur.execute(
                    "DELETE FROM staging.qbo_other_name o USING sync.run_extract e WHERE o.tenant_id=e.tenant_id "
                    "AND o.run_id=e.run_id AND e.extracted_at < now() - %s", (keep,))
            else:
                cur.execute(f"DELETE FROM staging.{table} WHERE extracted_at < now() - %s", (keep,))


# ----------------------------------------------------------------------------------------------- links and bases


def links(conn: Conn, tenant_id: int) -> list[tuple[int, str, bool]]:
    with conn.cursor() as cur:
        cur.execute("SELECT st_id, qbo_id, st_deleted FROM mapping.customer_link WHERE tenant_id=%s", (tenant_id,))
        return [(int(r[0]), str(r[1]), bool(r[2])) for r in cur.fetchall()]


def link_for_st(conn: Conn, tenant_id: int, st_id: int) -> str | None:
    with conn.cursor() as cur:
        cur.execute("SELECT qbo_id FROM mapping.customer_link WHERE tenant_id=%s AND st_id=%s", (tenant_id, st_id))
        row = cur.fetchone()
    return None if row is None else str(row[0])


def link_for_qbo(conn: Conn, tenant_id: int, qbo_id: str) -> int | None:
    with conn.cursor() as cur:
        cur.execute("SELECT st_id FROM mapping.customer_link WHERE tenant_id=%s AND qbo_id=%s", (tenant_id, qbo_id))
        row = cur.fetchone()
    return None if row is None else int(row[0])


def add_link(conn: Conn, tenant_id: int, st_id: int, qbo_id: str, linked_by: str, run_id: str) -> None:
    """Link one pair; the unique constraints on both columns make a second link of either record fail loudly."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.customer_link (tenant_id, st_id, qbo_id, linked_by, run_id) VALUES (%s,%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, st_id) DO NOTHING",
            (tenant_id, st_id, qbo_id, linked_by, run_id),
        )


def mark_st_deleted(conn: Conn, tenant_id: int, st_id: int) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE mapping.customer_link SET st_deleted = true WHERE tenant_id=%s AND st_id=%s",
                    (tenant_id, st_id))


def bases(conn: Conn, tenant_id: int, side: str) -> dict[str, dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute("SELECT record_id, canon, version FROM mapping.customer_base WHERE tenant_id=%s AND side=%s",
                    (tenant_id, side))
        return {str(r[0]): {"canon": r[1], "version": r[2]} for r in cur.fetchall()}


def base(conn: Conn, tenant_id: int, side: str, record_id: str) -> dict[str, Any] | None:
    with conn.cursor() as cur:
        cur.execute("SELECT canon, version FROM mapping.customer_base WHERE tenant_id=%s AND side=%s AND record_id=%s",
                    (tenant_id, side, record_id))
        row = cur.fetchone()
    return None if row is None else {"canon": row[0], "version": row[1]}


def save_base(conn: Conn, tenant_id: int, side: str, record_id: str, canon: dict[str, Any], version: str | None,
              modified_at: datetime | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.customer_base (tenant_id, side, record_id, canon, version, modified_at) "
            "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, side, record_id) DO UPDATE SET canon=EXCLUDED.canon, "
            "version=EXCLUDED.version, modified_at=EXCLUDED.modified_at, updated_at=now()",
            (tenant_id, side, record_id, json.dumps(canon), version, modified_at),
        )


def base_hash(st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None) -> str:
    """A fingerprint of both bases a plan row was computed from (None when the pair had no base)."""
    payload = json.dumps([st_base and st_base.get("canon"), qbo_base and qbo_base.get("canon")], sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()


def ambiguous_keys(conn: Conn, tenant_id: int) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT key FROM sync.ambiguous_name WHERE tenant_id=%s", (tenant_id,))
        return {str(r[0]) for r in cur.fetchall()}


def save_ambiguous(conn: Conn, tenant_id: int, run_id: str, groups: list[dict[str, Any]], resolved: set[str],
                   replace_all: bool) -> None:
    """Record this run's ambiguous groups; forget keys that got linked; a run that read both sides in full
    replaces the list (a group no longer ambiguous disappears)."""
    with conn.cursor() as cur:
        if replace_all:
            cur.execute("DELETE FROM sync.ambiguous_name WHERE tenant_id=%s", (tenant_id,))
        elif resolved:
            cur.execute("DELETE FROM sync.ambiguous_name WHERE tenant_id=%s AND key = ANY(%s)",
                        (tenant_id, sorted(resolved)))
        for g in groups:
            cur.execute(
                "INSERT INTO sync.ambiguous_name (tenant_id, key, st_ids, qbo_ids, run_id) VALUES (%s,%s,%s,%s,%s) "
                "ON CONFLICT (tenant_id, key) DO UPDATE SET st_ids=EXCLUDED.st_ids, qbo_ids=EXCLUDED.qbo_ids, "
                "run_id=EXCLUDED.run_id, updated_at=now()",
                (tenant_id, g["key"], g["st_ids"], g["qbo_ids"], run_id),
            )


# ----------------------------------------------------------------------------------------------- plan


PLAN_COLUMNS = ("action", "st_id", "qbo_id", "payload", "reason", "base_hash", "status")


def replace_plan(conn: Conn, tenant_id: int, run_id: str, rows: Sequence[dict[str, Any]]) -> int:
    """Write this run's plan. Rows already done (a re-run of diff after a partial load) are kept; the rest is
    replaced and numbered after them."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sync.plan WHERE tenant_id=%s AND run_id=%s AND status <> 'done'", (tenant_id, run_id))
        cur.execute("SELECT coalesce(max(seq), 0) FROM sync.plan WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))
        row = cur.fetchone()
        start = int(row[0]) if row else 0
        values = [
            (tenant_id, run_id, start + i + 1, r["action"], r.get("st_id"), r.get("qbo_id"),
             json.dumps(r.get("payload") or {}), r.get("reason", ""), r.get("base_hash"), r.get("status", "pending"))
            for i, r in enumerate(rows)
        ]
        for chunk in _chunks(values, 1000):
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO sync.plan (tenant_id, run_id, seq, action, st_id, qbo_id, payload, reason, base_hash, "
                "status) VALUES %s",
                chunk,
            )
    return len(values)


def plan_rows(conn: Conn, tenant_id: int, run_id: str, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    query = "SELECT * FROM sync.plan WHERE tenant_id=%s AND run_id=%s"
    params: list[Any] = [tenant_id, run_id]
    if statuses:
        query += " AND status = ANY(%s)"
        params.append(list(statuses))
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(query + " ORDER BY seq", params)
        return [dict(r) for r in cur.fetchall()]


def set_plan_status(conn: Conn, tenant_id: int, run_id: str, seq: int, status: str, error: str | None = None,
                    result: dict[str, Any] | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE sync.plan SET status=%s, error=%s, result=%s, attempts=attempts+1, updated_at=now() "
            "WHERE tenant_id=%s AND run_id=%s AND seq=%s",
            (status, error, json.dumps(result) if result is not None else None, tenant_id, run_id, seq),
        )


# ----------------------------------------------------------------------------------------------- audit


def start_run(conn: Conn, tenant_id: int, run_id: str, mode: str, dry_run: bool) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.run (tenant_id, run_id, mode, dry_run) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, run_id) DO UPDATE SET mode=EXCLUDED.mode, dry_run=EXCLUDED.dry_run, "
            "status='running', finished_at=NULL",
            (tenant_id, run_id, mode, dry_run),
        )


def finish_run(conn: Conn, tenant_id: int, run_id: str, status: str, summary: dict[str, Any], report: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE audit.run SET status=%s, summary=%s, report=%s, finished_at=now() WHERE tenant_id=%s AND run_id=%s",
            (status, json.dumps(summary, default=str), report, tenant_id, run_id),
        )


def run_info(conn: Conn, tenant_id: int, run_id: str) -> dict[str, Any] | None:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.run WHERE tenant_id=%s AND run_id=%s", (tenant_id, run_id))
        row = cur.fetchone()
    return dict(row) if row else None


def record_error(conn: Conn, tenant_id: int, run_id: str, task: str, side: str, entity: str, key: Any,
                 message: str, code: str | None = None, field: str | None = None) -> None:
    """A per-record error: logged with run id, side, entity, key, code and a plain-language message."""
    log.warning("record error: run=%s side=%s entity=%s key=%s code=%s field=%s: %s",
                run_id, side, entity, key, code, field, message)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.record_error (tenant_id, run_id, task, side, entity, record_key, field, code, message) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (tenant_id, run_id, task, side, entity, str(key), field, code, message),
        )


def clear_errors(conn: Conn, tenant_id: int, run_id: str, task: str) -> None:
    """A task's re-run starts with a clean error list for that task (errors it still has are recorded again)."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM audit.record_error WHERE tenant_id=%s AND run_id=%s AND task=%s",
                    (tenant_id, run_id, task))


def record_errors(conn: Conn, tenant_id: int, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.record_error WHERE tenant_id=%s AND run_id=%s ORDER BY error_id",
                    (tenant_id, run_id))
        return [dict(r) for r in cur.fetchall()]


def record_conflict(conn: Conn, tenant_id: int, run_id: str, st_id: int, qbo_id: str, field: str,
                    st_value: Any, qbo_value: Any, winner: str, rule: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.conflict (tenant_id, run_id, st_id, qbo_id, field, st_value, qbo_value, winner, rule) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (tenant_id, run_id, st_id, qbo_id, field, _text(st_value), _text(qbo_value), winner, rule),
        )


def conflicts(conn: Conn, tenant_id: int, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.conflict WHERE tenant_id=%s AND run_id=%s ORDER BY conflict_id",
                    (tenant_id, run_id))
        return [dict(r) for r in cur.fetchall()]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def utcnow() -> datetime:
    return datetime.now(UTC)
