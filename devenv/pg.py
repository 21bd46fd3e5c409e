"""Find or start the PostgreSQL that holds the connector's state.

Order, the same for `make demo`, `make airflow` and `make test`:
1. ``SYNC_STATE_DB_URL`` when set (a libpq URL to an existing server; its database is used as the admin database);
2. else a server answering on 127.0.0.1:5432 (user ``postgres``, trust auth, as on the dev machines);
3. else an embedded PostgreSQL 16 from the ``pgserver`` package, its data kept under ``var/pgdata``.

The embedded server listens on a Unix socket only, so URLs look like ``postgresql://postgres@/db?host=/tmp/...``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

REPO = Path(__file__).resolve().parent.parent
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class PgServer:
    """A reachable server: an admin URL plus how it was found (for messages)."""

    admin_url: str
    origin: str
    handle: object | None = None  # keeps an embedded server alive while referenced

    def url_for(self, database: str) -> str:
        """The same server, another database (works for socket URLs with ?host= too)."""
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))

    def create_database(self, name: str, exist_ok: bool = False) -> str:
        with _autocommit(self.admin_url) as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            elif not exist_ok:
                raise RuntimeError(f"database {name} already exists")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with _autocommit(self.admin_url) as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def create_temp_database(self, prefix: str = "stqbo_test") -> tuple[str, str]:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        return name, self.create_database(name)


class _autocommit:
    def __init__(self, url: str) -> None:
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.conn.cursor()

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        return True
    except psycopg2.Error:
        return False


def find_or_start(pgdata: Path | None = None) -> PgServer:
    """Return a reachable PostgreSQL, starting the embedded one only when nothing else answers."""
    env_url = os.environ.get("SYNC_STATE_DB_URL")
    if env_url:
        if not _answers(env_url):
            raise RuntimeError("SYNC_STATE_DB_URL is set but the server does not answer")
        return PgServer(env_url, "SYNC_STATE_DB_URL")
    if os.environ.get("STQBO_FORCE_EMBEDDED_PG") != "1" and _port_open("127.0.0.1", 5432) and _answers(LOCAL_URL):
        return PgServer(LOCAL_URL, "127.0.0.1:5432")
    return start_embedded(pgdata or REPO / "var" / "pgdata")


def start_embedded(pgdata: Path) -> PgServer:
    import logging

    import pgserver  # imported late: it is only needed when no server answers

    # its exit hook logs at INFO after pytest/Airflow closed their streams ("Logging error" noise at exit)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return PgServer(server.get_uri("postgres"), f"embedded PostgreSQL ({pgdata})", handle=server)


def psycopg2_dsn(url: str) -> str:
    """psycopg2 accepts libpq URLs directly; kept as a seam for other drivers."""
    return url


def airflow_conn_json(url: str) -> str:
    """An ``AIRFLOW_CONN_*`` JSON value for a libpq URL (host may be a socket directory)."""
    import json
    from urllib.parse import parse_qs

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    conn = {
        "conn_type": "postgres",
        "host": host,
        "port": parts.port or 5432,
        "login": parts.username or "postgres",
        "password": parts.password or "",
        "schema": parts.path.lstrip("/") or "postgres",
    }
    return json.dumps(conn)
