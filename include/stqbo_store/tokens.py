"""``auth.qbo_oauth_token``: the encrypted QuickBooks OAuth tokens, one row per (realm, client).

The values arrive and leave encrypted: encryption, the refresh protocol and the transaction (with its row lock)
belong to ``stqbo_api.tokens.TokenStore``. These functions only run the statements, inside the caller's
transaction, and never commit. The table comes from migration ``007_oauth_tokens.sql``.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from stqbo_store import Conn


class TokenRow(NamedTuple):
    """A stored row, tokens still encrypted."""

    refresh_token_enc: str
    access_token_enc: str | None
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None


_COLUMNS = "refresh_token_enc, access_token_enc, access_expires_at, refresh_expires_at"


def table_ready(conn: Conn) -> bool:
    """True when the token table exists (a state database never migrated has none)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('auth.qbo_oauth_token') IS NOT NULL")
        row = cur.fetchone()
    return bool(row and row[0])


def get(conn: Conn, realm_id: str, client_id: str, *, for_update: bool = False) -> TokenRow | None:
    """The row of (realm, client); ``for_update`` locks it until the caller's transaction ends."""
    lock = " FOR UPDATE" if for_update else ""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM auth.qbo_oauth_token WHERE realm_id = %s AND client_id = %s{lock}",
                    (realm_id, client_id))
        row = cur.fetchone()
    return None if row is None else TokenRow(*row)


def seed(conn: Conn, realm_id: str, client_id: str, refresh_token_enc: str) -> None:
    """Insert a first refresh token unless the (realm, client) already has a row (then nothing changes)."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO auth.qbo_oauth_token (realm_id, client_id, refresh_token_enc) VALUES (%s, %s, %s) "
            "ON CONFLICT (realm_id, client_id) DO NOTHING",
            (realm_id, client_id, refresh_token_enc),
        )


def put(conn: Conn, realm_id: str, client_id: str, row: TokenRow, refreshed_at: datetime | None) -> None:
    """Insert or replace the row of (realm, client)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO auth.qbo_oauth_token AS t
                (realm_id, client_id, refresh_token_enc, access_token_enc, access_expires_at,
                 refresh_expires_at, refreshed_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, now())
            ON CONFLICT (realm_id, client_id) DO UPDATE SET
                refresh_token_enc = EXCLUDED.refresh_token_enc,
                access_token_enc = EXCLUDED.access_token_enc,
                access_expires_at = EXCLUDED.access_expires_at,
                refresh_expires_at = EXCLUDED.refresh_expires_at,
                refreshed_at = EXCLUDED.refreshed_at,
                updated_at = now()
            """,
            (realm_id, client_id, *row, refreshed_at),
        )
