"""Append-only, checksummed migrations: the numbered files in ``sql/`` applied in order, once each.

Each applied file's SHA-256 (line endings normalised) is recorded in ``sync.schema_version``. A file changed after it
was applied is refused with `MigrationChanged`: a database migrated by the old text would silently differ from one
created by the new text (which is how ``ledger.invoice.failures`` once went missing). Fix: restore the file and add
a new numbered migration. Rows applied before checksums were recorded get the file's current checksum on first sight.

One migrator at a time (an advisory lock); the service runs `migrate` once per run, in the run's first task. Unlike
the rest of this package, `migrate` commits: each file is its own unit of work.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from stqbo_store import Conn

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).resolve().parent / "sql"
MIGRATION_LOCK = 0x5751B0  # advisory lock key: one migrator at a time


class MigrationChanged(RuntimeError):
    """An applied migration file was edited: the database and the code disagree about the schema."""


def files() -> list[Path]:
    return sorted(SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def migrate(conn: Conn) -> list[str]:
    """Apply the numbered SQL files not yet applied, in order, each in its own transaction (idempotent)."""
    applied: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        done = _bootstrap(conn)
        _check_applied(conn, done)
        for path in files():
            if path.stem in done:
                continue
            with conn.cursor() as cur:
                cur.execute(path.read_text())
                cur.execute("INSERT INTO sync.schema_version (version, checksum) VALUES (%s, %s)",
                            (path.stem, checksum(path)))
            conn.commit()
            applied.append(path.stem)
            log.info("applied migration %s", path.stem)
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.commit()
    return applied


def _bootstrap(conn: Conn) -> dict[str, str | None]:
    """The bookkeeping table (with its checksum column, added to databases made before checksums existed)."""
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS sync")
        cur.execute("CREATE TABLE IF NOT EXISTS sync.schema_version (version text PRIMARY KEY, "
                    "applied_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("ALTER TABLE sync.schema_version ADD COLUMN IF NOT EXISTS checksum text")
        cur.execute("SELECT version, checksum FROM sync.schema_version")
        done = {str(r[0]): r[1] for r in cur.fetchall()}
    conn.commit()
    return done


def _check_applied(conn: Conn, done: dict[str, str | None]) -> None:
    for path in files():
        if path.stem not in done:
            continue
        actual = checksum(path)
        recorded = done[path.stem]
        if recorded is None:
            with conn.cursor() as cur:
                cur.execute("UPDATE sync.schema_version SET checksum=%s WHERE version=%s", (actual, path.stem))
            conn.commit()
        elif recorded != actual:
            raise MigrationChanged(
                f"migration {path.name} was changed after it was applied to this state database (checksum "
                f"{recorded[:12]} applied, {actual[:12]} now). Migrations are append-only: restore the file as it "
                "was and put the change in a new numbered migration.")


def current(conn: Conn) -> bool:
    """True when every migration file has been applied (a cheap check for tasks after the first)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('sync.schema_version') IS NOT NULL")
        row = cur.fetchone()
        if not (row and row[0]):
            return False
        cur.execute("SELECT version FROM sync.schema_version")
        done = {str(r[0]) for r in cur.fetchall()}
    return {p.stem for p in files()} <= done
