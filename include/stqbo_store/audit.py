"""What each run did (schema ``audit``): the run itself with its report, per-record errors and conflicts."""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg2.extras

from stqbo_store import Scope

log = logging.getLogger(__name__)


def start_run(s: Scope, mode: str, dry_run: bool) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.run (tenant_id, run_id, mode, dry_run) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, run_id) DO UPDATE SET mode=EXCLUDED.mode, dry_run=EXCLUDED.dry_run, "
            "status='running', finished_at=NULL",
            (s.tenant_id, s.run_id, str(mode), dry_run),
        )


def finish_run(s: Scope, status: str, summary: dict[str, Any], report: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "UPDATE audit.run SET status=%s, summary=%s, report=%s, finished_at=now() WHERE tenant_id=%s AND run_id=%s",
            (status, json.dumps(summary, default=str), report, s.tenant_id, s.run_id),
        )


def run_info(s: Scope) -> dict[str, Any] | None:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.run WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))
        row = cur.fetchone()
    return dict(row) if row else None


def had_manual_success(s: Scope) -> bool:
    """Whether a run that was not a dry run ever succeeded for this tenant (scheduled runs wait for one)."""
    with s.conn.cursor() as cur:
        cur.execute("SELECT 1 FROM audit.run WHERE tenant_id=%s AND status='success' AND NOT dry_run LIMIT 1",
                    (s.tenant_id,))
        return cur.fetchone() is not None


def record_error(s: Scope, task: str, side: str, entity: str, key: Any, message: str, code: str | None = None,
                 field: str | None = None) -> None:
    """A per-record error: logged with run id, side, entity, key, code and a plain-language message."""
    log.warning("record error: run=%s side=%s entity=%s key=%s code=%s field=%s: %s",
                s.run_id, side, entity, key, code, field, message)
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.record_error (tenant_id, run_id, task, side, entity, record_key, field, code, message) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (s.tenant_id, s.run_id, task, side, entity, str(key), field, code, message),
        )


def clear_errors(s: Scope, task: str) -> None:
    """A task's re-run starts with a clean error list for that task (errors it still has are recorded again)."""
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM audit.record_error WHERE tenant_id=%s AND run_id=%s AND task=%s",
                    (s.tenant_id, s.run_id, task))


def record_errors(s: Scope) -> list[dict[str, Any]]:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.record_error WHERE tenant_id=%s AND run_id=%s ORDER BY error_id",
                    (s.tenant_id, s.run_id))
        return [dict(r) for r in cur.fetchall()]


def record_conflict(s: Scope, st_id: int, qbo_id: str, field: str, st_value: Any, qbo_value: Any, winner: str,
                    rule: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit.conflict (tenant_id, run_id, st_id, qbo_id, field, st_value, qbo_value, winner, rule) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (s.tenant_id, s.run_id, st_id, qbo_id, field, _text(st_value), _text(qbo_value), winner, rule),
        )


def clear_conflicts(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM audit.conflict WHERE tenant_id=%s AND run_id=%s", (s.tenant_id, s.run_id))


def conflicts(s: Scope) -> list[dict[str, Any]]:
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT * FROM audit.conflict WHERE tenant_id=%s AND run_id=%s ORDER BY conflict_id",
                    (s.tenant_id, s.run_id))
        return [dict(r) for r in cur.fetchall()]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def set_cause(s: Scope, cause: str) -> None:
    """Why the run failed when a person must act (e.g. 'reauthorize'); read by the alerts."""
    with s.conn.cursor() as cur:
        cur.execute("UPDATE audit.run SET cause=%s WHERE tenant_id=%s AND run_id=%s", (cause, s.tenant_id, s.run_id))


def last_success_at(s: Scope) -> Any:
    """When the tenant's newest successful run that was not a dry run finished (None: never)."""
    with s.conn.cursor() as cur:
        cur.execute("SELECT max(finished_at) FROM audit.run WHERE tenant_id=%s AND status='success' AND NOT dry_run",
                    (s.tenant_id,))
        row = cur.fetchone()
    return row[0] if row else None


def open_alerts(s: Scope) -> dict[str, dict[str, Any]]:
    """The tenant's open incidents by kind, with the run that opened each."""
    with s.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT kind, opened_run_id, opened_at FROM audit.alert WHERE tenant_id=%s AND closed_at IS NULL",
                    (s.tenant_id,))
        return {r["kind"]: dict(r) for r in cur.fetchall()}


def open_alert(s: Scope, kind: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute("INSERT INTO audit.alert (tenant_id, kind, opened_run_id) VALUES (%s,%s,%s) "
                    "ON CONFLICT (tenant_id, kind) WHERE closed_at IS NULL DO NOTHING",
                    (s.tenant_id, kind, s.run_id))


def close_alerts(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("UPDATE audit.alert SET closed_at=now(), closed_run_id=%s WHERE tenant_id=%s AND closed_at IS NULL",
                    (s.run_id, s.tenant_id))
