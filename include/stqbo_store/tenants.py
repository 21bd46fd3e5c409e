"""Tenants (one Synchroteam account with one QuickBooks company) and the run lease (schema ``sync``).

The lease, not an advisory lock: a run spans several task processes, so the holder is the run id, refreshed by a
heartbeat and taken over when it is older than `LEASE_TTL`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from stqbo_store import Conn, Scope

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(hours=2)


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


def schema_ready(conn: Conn) -> bool:
    """True once the state DB has been migrated (``make connect`` may run before any DAG run)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('sync.tenant') IS NOT NULL")
        row = cur.fetchone()
    return bool(row and row[0])


def other_realm_tenants(conn: Conn, realm_id: str) -> list[tuple[str, str, str]]:
    """(Synchroteam domain, realm, environment) of the tenants of every other QuickBooks realm."""
    with conn.cursor() as cur:
        cur.execute("SELECT st_domain, qbo_realm_id, qbo_environment FROM sync.tenant "
                    "WHERE qbo_realm_id <> %s ORDER BY tenant_id", (realm_id,))
        return [(str(r[0]), str(r[1]), str(r[2])) for r in cur.fetchall()]


def take_lease(s: Scope) -> tuple[str, datetime] | None:
    """Take (or refresh) the tenant's lease for ``s.run_id``: re-entrant for the same run; an expired lease is
    taken over. Returns None when this run holds it, else the holder (run id, last heartbeat). The caller commits."""
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.lease (tenant_id, run_id) VALUES (%s, %s) "
            "ON CONFLICT (tenant_id) DO UPDATE SET run_id = EXCLUDED.run_id, acquired_at = now(), heartbeat = now() "
            "WHERE sync.lease.run_id = EXCLUDED.run_id OR sync.lease.heartbeat < now() - %s "
            "RETURNING run_id",
            (s.tenant_id, s.run_id, LEASE_TTL),
        )
        if cur.fetchone() is not None:
            return None
        cur.execute("SELECT run_id, heartbeat FROM sync.lease WHERE tenant_id = %s", (s.tenant_id,))
        row = cur.fetchone()
    return (str(row[0]), row[1]) if row else ("?", datetime.min)


def release_lease(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM sync.lease WHERE tenant_id = %s AND run_id = %s", (s.tenant_id, s.run_id))


def zone_hold(s: Scope) -> tuple[str, str] | None:
    """(the zone the account contradicted, the message) when its reads are held."""
    with s.conn.cursor() as cur:
        cur.execute("SELECT configured_zone, message FROM sync.st_zone_hold WHERE tenant_id=%s", (s.tenant_id,))
        row = cur.fetchone()
    return (str(row[0]), str(row[1])) if row else None


def hold_zone(s: Scope, configured_zone: str, message: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sync.st_zone_hold (tenant_id, configured_zone, message, run_id) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id) DO UPDATE SET configured_zone=EXCLUDED.configured_zone, "
            "message=EXCLUDED.message, run_id=EXCLUDED.run_id, created_at=now()",
            (s.tenant_id, configured_zone, message, s.run_id),
        )


def release_zone_hold(s: Scope) -> None:
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM sync.st_zone_hold WHERE tenant_id=%s", (s.tenant_id,))
