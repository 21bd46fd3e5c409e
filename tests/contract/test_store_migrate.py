"""Migrations against a real PostgreSQL: a state database created by earlier code is upgraded without loss, and a
migration file edited after it was applied is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg2
import pytest

from stqbo_store import Scope, connect, ledger, migrate, tenants
from stqbo_store import mapping as mapping_db

OLD = Path(__file__).resolve().parent.parent / "fixtures" / "old_state_db"


def _create_old_database(dsn: str, first_002: bool) -> None:
    """What the old runner did: sync.schema_version without checksums, files 001-005, the token table's own DDL."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS sync")
        cur.execute("CREATE TABLE sync.schema_version (version text PRIMARY KEY, "
                    "applied_at timestamptz NOT NULL DEFAULT now())")
        for name in ("001_core", "002_invoices", "003_extract_completed", "004_extract_planned", "005_ambiguous_names"):
            text = (OLD / ("002_invoices_first.sql" if name == "002_invoices" and first_002 else f"{name}.sql")).read_text()
            cur.execute(text)
            cur.execute("INSERT INTO sync.schema_version (version) VALUES (%s)", (name,))
        cur.execute((OLD / "auth_tokens_ddl.sql").read_text())
        cur.execute("INSERT INTO sync.tenant (st_domain, qbo_realm_id, qbo_environment, qbo_base_url) "
                    "VALUES ('demo', '9130', 'sandbox', 'http://sim') RETURNING tenant_id")
        row = cur.fetchone()
        assert row is not None
        tenant_id = row[0]
        cur.execute("INSERT INTO mapping.customer_link (tenant_id, st_id, qbo_id, linked_by, run_id) "
                    "VALUES (%s, 11, '58', 'match', 'old_run')", (tenant_id,))
        cur.execute("INSERT INTO ledger.invoice (tenant_id, st_id, st_number, qbo_id, version, state, attempts) "
                    "VALUES (%s, 700, '7000', '130', 'abcdef012345', 'done', 1)", (tenant_id,))
        cur.execute("INSERT INTO auth.qbo_oauth_token (realm_id, client_id, refresh_token_enc) "
                    "VALUES ('9130', 'demo-client', 'gAAAA-encrypted')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("first_002", [False, True], ids=["main-d0ce992", "first-002-without-failures"])
def test_an_old_state_database_is_migrated_without_loss(state_db: str, first_002: bool) -> None:
    _create_old_database(state_db, first_002)
    conn = connect(state_db)
    applied = migrate.migrate(conn)
    assert applied and applied[0] == "006_invoice_failures"
    assert set(applied) == {p.stem for p in migrate.files()} - {
        "001_core", "002_invoices", "003_extract_completed", "004_extract_planned", "005_ambiguous_names"}
    tenant_id = tenants.ensure_tenant(conn, "demo", "9130", "sandbox", "http://sim")
    scope = Scope(conn, tenant_id, "new_run")
    assert mapping_db.links(scope) == [(11, "58", False)]
    row = ledger.get(scope, 700)
    assert row is not None and row["qbo_id"] == "130" and row["version"] == "abcdef012345" and row["failures"] == 0
    ledger.fail(scope, 701, "7001", "refused")   # the column the first 002 lacked is usable
    assert (ledger.get(scope, 701) or {})["failures"] == 1
    with conn.cursor() as cur:
        cur.execute("SELECT refresh_token_enc FROM auth.qbo_oauth_token WHERE realm_id='9130'")
        assert cur.fetchall() == [("gAAAA-encrypted",)]
        cur.execute("SELECT count(*) FROM sync.schema_version WHERE checksum IS NULL")
        assert cur.fetchone() == (0,)   # checksums recorded for the files applied before they existed
    conn.rollback()
    assert migrate.migrate(conn) == []   # idempotent
    conn.close()


def test_a_migration_edited_after_it_was_applied_is_refused(state_db: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(migrate.SQL_DIR, sql)
    monkeypatch.setattr(migrate, "SQL_DIR", sql)
    conn = connect(state_db)
    assert migrate.migrate(conn)[0] == "001_core"
    edited = sql / "002_invoices.sql"
    edited.write_text(edited.read_text() + "\nALTER TABLE ledger.invoice ADD COLUMN IF NOT EXISTS sneaky int;\n")
    with pytest.raises(migrate.MigrationChanged, match="002_invoices.sql was changed after it was applied"):
        migrate.migrate(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.columns WHERE column_name = 'sneaky'")
        assert cur.fetchone() == (0,)
    edited.write_bytes(edited.read_bytes().replace(b"\nALTER TABLE ledger.invoice ADD COLUMN IF NOT EXISTS sneaky int;\n",
                                                   b"").replace(b"\n", b"\r\n"))
    assert migrate.migrate(conn) == []   # restored (line endings do not count)
    conn.close()


def test_a_new_migration_file_is_applied_once(state_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(migrate.SQL_DIR, sql)
    monkeypatch.setattr(migrate, "SQL_DIR", sql)
    conn = connect(state_db)
    migrate.migrate(conn)
    (sql / "999_extra.sql").write_text("CREATE TABLE sync.extra_for_test (x int);")
    assert migrate.migrate(conn) == ["999_extra"]
    assert migrate.migrate(conn) == []
    assert migrate.current(conn)
    conn.close()
