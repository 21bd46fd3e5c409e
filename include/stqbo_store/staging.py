"""Raw records each run read, keyed by run id (schema ``staging``, kept `STAGING_RETENTION`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import psycopg2.extras

from stqbo_store import Conn, Scope

STAGING_RETENTION = timedelta(days=14)
TABLES = {"st_customer": "st_id", "qbo_customer": "qbo_id", "st_invoice": "st_id"}


def replace(s: Scope, table: str, records: Iterable[tuple[Any, dict[str, Any]]]) -> int:
    """Replace this run's staged rows of one table (a re-run of an extract starts clean)."""
    with s.conn.cursor() as cur:
        cur.execute(f"DELETE FROM staging.{table} WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))
    return add(s, table, records)


def add(s: Scope, table: str, records: Iterable[tuple[Any, dict[str, Any]]]) -> int:
    key = TABLES[table]
    count = 0
    with s.conn.cursor() as cur:
        for chunk in chunks(records, 1000):
            psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO staging.{table} (tenant_id, run_id, {key}, payload) VALUES %s "
                f"ON CONFLICT (tenant_id, run_id, {key}) DO UPDATE SET payload = EXCLUDED.payload",
                [(s.tenant_id, s.run_id, rid, json.dumps(obj)) for rid, obj in chunk],
            )
            count += len(chunk)
    return count


def rows(s: Scope, table: str) -> list[tuple[Any, dict[str, Any]]]:
    key = TABLES[table]
    with s.conn.cursor() as cur:
        cur.execute(f"SELECT {key}, payload FROM staging.{table} WHERE tenant_id=%s AND run_id=%s ORDER BY {key}",
                    (s.tenant_id, s.run_id))
        return [(r[0], r[1]) for r in cur.fetchall()]


def replace_other_names(s: Scope, names: Iterable[tuple[str, str, str]]) -> None:
    """This run's vendor and employee DisplayNames (entity, id, name): they share the customers' name space."""
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM staging.qbo_other_name WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO staging.qbo_other_name (tenant_id, run_id, entity, qbo_id, display_name) VALUES %s "
            "ON CONFLICT DO NOTHING",
            [(s.tenant_id, s.run_id, e, i, n) for e, i, n in names],
        )


def other_names(s: Scope) -> list[tuple[str, str, str]]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT entity, qbo_id, display_name FROM staging.qbo_other_name WHERE tenant_id=%s AND run_id=%s",
                    (s.tenant_id, s.run_id))
        return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def purge_old(conn: Conn, keep: timedelta = STAGING_RETENTION) -> None:
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"DELETE FROM staging.{table} WHERE extracted_at < now() - %s", (keep,))
        cur.execute("DELETE FROM staging.qbo_other_name o USING sync.run_extract e WHERE o.tenant_id=e.tenant_id "
                    "AND o.run_id=e.run_id AND e.extracted_at < now() - %s", (keep,))


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
