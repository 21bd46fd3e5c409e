"""The state database (PostgreSQL): every SQL statement of the project lives in this package, one module per
schema or role. Functions take an open connection (or a `Scope`) and never commit: the caller (the sync
service, the token store, ``make connect``) owns one unit of work per step. Imports nothing of the connector.

Modules: ``migrate`` (append-only numbered files in ``sql/``, checksummed), ``tenants`` (tenants and the run
lease), ``extracts`` (what each run read, and the watermarks), ``staging``, ``mapping`` (links, bases, item
links, ambiguous names), ``plan``, ``ledger`` (invoices), ``audit`` (runs, record errors, conflicts),
``tokens`` (the encrypted OAuth tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

Conn = psycopg2.extensions.connection


@dataclass(frozen=True)
class Scope:
    """Where a step's statements go: an open connection, the tenant and the run."""

    conn: Conn
    tenant_id: int
    run_id: str


def connect(dsn: str, application_name: str = "stqbo_sync") -> Conn:
    conn = psycopg2.connect(dsn, application_name=application_name)
    conn.autocommit = False
    return conn
