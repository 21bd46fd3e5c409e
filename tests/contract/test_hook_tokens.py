"""The encrypted token store against a real PostgreSQL: encryption at rest, locking, seeding and fallback."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from stqbo_api.errors import ReauthorizationRequired
from stqbo_api.tokens import TokenSet, TokenStore
from stqbo_store import migrate
from stqbo_store import tokens as token_rows

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _store(dsn: str, secret: str = "client-secret-1") -> TokenStore:
    return TokenStore(dsn, secret, clock=lambda: NOW)


def _fresh(n: int) -> TokenSet:
    return TokenSet(refresh_token=f"refresh-{n}", access_token=f"access-{n}", expires_at=NOW + timedelta(hours=1))


def test_tokens_are_encrypted_at_rest_and_keyed_by_client_secret(state_db: str) -> None:
    _store(state_db).save("realm-1", "client", "refresh-plain", "access-plain", NOW + timedelta(hours=1))
    loaded = _store(state_db).load("realm-1", "client")
    assert loaded is not None and loaded.refresh_token == "refresh-plain" and loaded.access_token == "access-plain"
    assert "refresh-plain" not in repr(loaded)
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(t)::text FROM auth.qbo_oauth_token t")
        raw = cur.fetchone()[0]
    assert "refresh-plain" not in raw and "access-plain" not in raw
    assert _store(state_db, secret="another-secret").load("realm-1", "client") is None
    assert _store(state_db).load("realm-2", "client") is None


def test_refresh_seeds_from_the_connection_token_and_stores_the_new_one(state_db: str) -> None:
    seen: list[str] = []

    def refresh(token: str) -> TokenSet:
        seen.append(token)
        return _fresh(len(seen))

    store = _store(state_db)
    got = store.refresh_locked("r", "c", refresh, initial_refresh_token="seed")
    assert seen == ["seed"] and got.access_token == "access-1"
    stored = store.load("r", "c")
    assert stored is not None and stored.refresh_token == "refresh-1"
    # Still valid and not rejected: reused without calling the token endpoint.
    assert store.refresh_locked("r", "c", refresh, initial_refresh_token="seed").access_token == "access-1"
    assert seen == ["seed"]
    # Rejected by the API: refresh with the stored (newest) token, not the connection's seed.
    store.refresh_locked("r", "c", refresh, initial_refresh_token="seed", rejected_access_token="access-1")
    assert seen == ["seed", "refresh-1"]


def test_no_token_anywhere_asks_for_reauthorisation(state_db: str) -> None:
    with pytest.raises(ReauthorizationRequired, match="make connect"):
        _store(state_db).refresh_locked("r", "c", lambda t: _fresh(1))


def test_refused_stored_token_falls_back_to_a_newer_connection_token(state_db: str) -> None:
    store = _store(state_db)
    store.save("r", "c", "stale-refresh")

    def refresh(token: str) -> TokenSet:
        if token == "stale-refresh":
            raise ReauthorizationRequired("refused", api="quickbooks")
        return _fresh(9)

    assert store.refresh_locked("r", "c", refresh, initial_refresh_token="pasted-new").access_token == "access-9"
    assert store.load("r", "c").refresh_token == "refresh-9"  # type: ignore[union-attr]


def test_failed_refresh_keeps_the_stored_token_and_the_table(state_db: str) -> None:
    store = _store(state_db)

    def refuse(token: str) -> TokenSet:
        raise ReauthorizationRequired("refused", api="quickbooks")

    with pytest.raises(ReauthorizationRequired):
        store.refresh_locked("r", "c", refuse, initial_refresh_token="seed")
    assert store.load("r", "c") is None  # the seed row was rolled back with the failed refresh
    store.save("r", "c", "kept")
    assert store.load("r", "c").refresh_token == "kept"  # type: ignore[union-attr]


def test_concurrent_refreshes_are_serialised_by_the_row_lock(state_db: str) -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def slow_refresh(token: str) -> TokenSet:
        with lock:
            calls.append(token)
        time.sleep(0.3)  # long enough for the other process to queue on the row lock
        return _fresh(1)

    results: list[str | None] = []

    def worker() -> None:
        # A store per thread: separate connections, like separate worker processes.
        got = _store(state_db).refresh_locked("r", "c", slow_refresh, initial_refresh_token="seed")
        results.append(got.access_token)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["seed"]  # one refresh; the others saw its result after the lock was released
    assert results == ["access-1"] * 3


# The table as the token store created it itself before it came from migration 007.
OLD_DDL = """
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.qbo_oauth_token (
    realm_id text NOT NULL, client_id text NOT NULL, refresh_token_enc text NOT NULL, access_token_enc text,
    access_expires_at timestamptz, refresh_expires_at timestamptz, refreshed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (realm_id, client_id));
"""


def test_the_token_migration_keeps_a_table_the_old_store_made(state_db: str) -> None:
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute(OLD_DDL)
    _store(state_db).save("realm-1", "client", "kept-refresh")
    migration = Path(token_rows.__file__).resolve().parent / "sql" / "007_oauth_tokens.sql"
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute(migration.read_text())
        cur.execute(migration.read_text())
    loaded = _store(state_db).load("realm-1", "client")
    assert loaded is not None and loaded.refresh_token == "kept-refresh"


def test_a_new_database_gets_the_table_from_the_migrations(state_db: str) -> None:
    with psycopg2.connect(state_db) as conn:
        assert not token_rows.table_ready(conn)
    _store(state_db).save("realm-1", "client", "first")
    with psycopg2.connect(state_db) as conn:
        assert token_rows.table_ready(conn) and migrate.current(conn)   # through the migrations, all of them
        with conn.cursor() as cur:
            cur.execute("SELECT obj_description('auth.qbo_oauth_token'::regclass)")
            assert "Fernet-encrypted" in cur.fetchone()[0]
