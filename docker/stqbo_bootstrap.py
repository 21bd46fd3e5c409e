"""One-shot set-up steps of docker-compose.yaml, run inside the Airflow image.

``python docker/stqbo_bootstrap.py create-state-db``
    Creates the connector's state database (the ``schema`` of ``AIRFLOW_CONN_SYNC_STATE_DB``) on the compose
    PostgreSQL when it is missing. Done here rather than by a ``/docker-entrypoint-initdb.d`` script because
    those run only when the data volume is first created; this also repairs an older volume.

``python docker/stqbo_bootstrap.py connect-quickbooks``
    Connects the QuickBooks simulator as a person would connect the app: asks it for a fresh OAuth grant
    (``POST /_sim/oauth/grant``, for the realm named in the connection) and stores the refresh token, encrypted, in the state DB's token store, where
    the QuickBooks hook looks first. Why not put the token into ``AIRFLOW_CONN_QUICKBOOKS_DEFAULT``: the
    simulator keeps its grants in memory, so no token can be written into docker-compose.yaml ahead of time,
    and an env connection cannot be changed after the containers started. Why not ``airflow connections add``:
    Airflow looks up environment variables before the metadata DB, so a stored connection would be shadowed by
    the env var that carries the rest of the connection. The realm id, by contrast, is fixed (the simulator's
    default company, which holds the demo data), so it stays in the env var; this step asks for a grant on that
    realm and checks that it got one.

Both steps read the same ``AIRFLOW_CONN_*`` JSON env vars as the Airflow containers (one YAML anchor), so they
cannot drift apart. Nothing here imports Airflow, and no token is ever printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import psycopg2
import requests
from psycopg2 import sql

from stqbo_api.dsn import postgres_dsn
from stqbo_api.tokens import TokenStore

log = logging.getLogger("stqbo_bootstrap")

QBO_CONN_VAR = "AIRFLOW_CONN_QUICKBOOKS_DEFAULT"
STATE_DB_CONN_VAR = "AIRFLOW_CONN_SYNC_STATE_DB"


class BootstrapError(RuntimeError):
    """A set-up step cannot be done; the message says what to fix."""


def env_connection(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON form of an ``AIRFLOW_CONN_*`` variable, as a dict."""
    raw = (environ if environ is not None else os.environ).get(name)
    if not raw:
        raise BootstrapError(f"{name} is not set")
    try:
        conn = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BootstrapError(f"{name} is not JSON: {exc.msg}") from exc
    if not isinstance(conn, dict):
        raise BootstrapError(f"{name} must be a JSON object")
    return conn


def state_db_dsn(conn: Mapping[str, Any], database: str | None = None) -> str:
    """A psycopg2 DSN for a postgres connection, the way the hooks build it; ``database`` overrides ``schema``."""
    return postgres_dsn(
        conn.get("host"), conn.get("port"), conn.get("login"), conn.get("password"),
        database or conn.get("schema"), conn.get("extra") or {},
    )


def create_state_db(conn: Mapping[str, Any], maintenance_db: str = "postgres") -> bool:
    """Create the state database when it is missing; True when it was created."""
    name = conn.get("schema")
    if not name:
        raise BootstrapError(f"{STATE_DB_CONN_VAR} has no schema (the database name)")
    admin = psycopg2.connect(state_db_dsn(conn, maintenance_db))
    try:
        admin.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is not None:
                return False
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        admin.close()


def request_grant(base_url: str, client_id: str, client_secret: str, realm_id: str, attempts: int = 10,
                  pause: float = 2.0) -> dict[str, str]:
    """Ask the QuickBooks simulator for a fresh grant on a realm; retried while the simulator is starting."""
    url = base_url.rstrip("/") + "/_sim/oauth/grant"
    body = {"client_id": client_id, "client_secret": client_secret, "realm_id": realm_id}
    for attempt in range(1, attempts + 1):
        try:
            resp = requests.post(url, json=body, timeout=10)
        except requests.ConnectionError:
            if attempt == attempts:
                raise BootstrapError(f"the QuickBooks simulator at {base_url} does not answer") from None
            time.sleep(pause)
            continue
        if resp.status_code != 200:
            raise BootstrapError(f"POST {url} answered HTTP {resp.status_code}")
        grant = resp.json()
        if not grant.get("realm_id") or not grant.get("refresh_token"):
            raise BootstrapError(f"POST {url} answered without realm_id or refresh_token")
        return {"realm_id": str(grant["realm_id"]), "refresh_token": str(grant["refresh_token"])}
    raise AssertionError("unreachable")


def connect_quickbooks(qbo_conn: Mapping[str, Any], state_conn: Mapping[str, Any], attempts: int = 10) -> str:
    """Store a fresh simulator grant in the token store; returns the realm id."""
    extra = qbo_conn.get("extra") or {}
    realm_id = str(extra.get("realm_id") or "")
    client_id, secret, host = qbo_conn.get("login"), qbo_conn.get("password"), qbo_conn.get("host")
    if not (realm_id and client_id and secret and host):
        raise BootstrapError(f"{QBO_CONN_VAR} needs host, login, password and extra.realm_id")
    grant = request_grant(host, client_id, secret, realm_id, attempts=attempts)
    if grant["realm_id"] != realm_id:
        raise BootstrapError(
            f"the simulator granted realm {grant['realm_id']}, but {QBO_CONN_VAR} names realm {realm_id}: "
            "set extra.realm_id in docker-compose.yaml to the simulator's default company"
        )
    TokenStore(state_db_dsn(state_conn), secret).save(realm_id, client_id, grant["refresh_token"])
    return realm_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stqbo_bootstrap", description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("create-state-db", "connect-quickbooks"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        state_conn = env_connection(STATE_DB_CONN_VAR)
        if args.step == "create-state-db":
            created = create_state_db(state_conn)
            log.info("state database %s %s", state_conn["schema"], "created" if created else "already exists")
        else:
            realm_id = connect_quickbooks(env_connection(QBO_CONN_VAR), state_conn)
            log.info("QuickBooks simulator connected: a fresh refresh token for realm %s is in the token store",
                     realm_id)
    except (BootstrapError, psycopg2.Error) as exc:
        log.error("%s failed: %s", args.step, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
