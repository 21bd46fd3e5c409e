"""The QuickBooks OAuth token store: the newest refresh token, encrypted, in the state DB (no Airflow here).

Why the database and not the Airflow connection: Intuit rotates refresh tokens and invalidates the previous one
about 24 h later, so the newest token must be written *in the same transaction that obtained it*, from any
worker, and read by every other process. Airflow connections from env vars or a secrets backend are read-only.
The connection's ``refresh_token`` extra only seeds the store (and is tried once more when the stored token is
refused, so pasting a fresh token into the connection also reconnects).

Concurrency: ``refresh_locked`` takes a row lock (``SELECT ... FOR UPDATE``) per (realm, client), re-reads the
row, and only calls the token endpoint when no other process refreshed meanwhile. Parallel refreshes with the
same token are what makes Intuit answer ``invalid_grant``; the lock makes them impossible.

Encryption: Fernet (AES-128-CBC + HMAC) with a key derived by HKDF-SHA256 from the OAuth **client secret**.
That secret is already in every place that can use a refresh token (a refresh token is useless without it),
so no second key has to be provisioned, rotated or leaked; a database dump alone reveals nothing usable.
Rotating the client secret makes stored rows undecryptable: they are then treated as absent (the connection's
``refresh_token`` seeds again, or ``make connect`` stores a new grant).

Storage: the statements are in ``stqbo_store.tokens`` and the table comes from the state DB's migrations
(``007_oauth_tokens.sql``); this module owns the encryption, the transaction and the refresh protocol.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import psycopg2
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from stqbo_api.errors import QUICKBOOKS, REAUTHORISE_HINT, ReauthorizationRequired
from stqbo_api.redact import register_secret
from stqbo_store import Conn
from stqbo_store import tokens as rows
from stqbo_store.migrate import migrate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenSet:
    """Tokens of one realm; the values are kept out of ``repr`` so that they never reach a log by accident."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None

    def access_valid(self, now: datetime, margin: timedelta) -> bool:
        """True when the access token can still be used for at least ``margin``."""
        return bool(self.access_token) and self.expires_at is not None and self.expires_at - margin > now


RefreshFn = Callable[[str], TokenSet]


def derive_key(secret: str) -> bytes:
    """The Fernet key for a client secret (HKDF-SHA256, fixed salt and purpose)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"stqbo-hooks/token-store/v1", info=b"qbo_oauth_token")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


class TokenStore:
    """Encrypted per-(realm, client) token rows in ``auth.qbo_oauth_token``; works with any psycopg2 DSN."""

    def __init__(self, dsn: str, secret: str, clock: Callable[[], datetime] | None = None) -> None:
        if not secret:
            raise ValueError("the token store needs the OAuth client secret to derive its encryption key")
        self._dsn = dsn
        self._fernet = Fernet(derive_key(secret))
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ready = False

    def __repr__(self) -> str:
        return "TokenStore(<dsn hidden>)"

    # ------------------------------------------------------------------------------------------ plumbing

    @contextmanager
    def _transaction(self) -> Iterator[Conn]:
        """One connection and transaction per operation: committed when the block ends, rolled back on error."""
        conn = psycopg2.connect(self._dsn)
        try:
            self._ensure_schema(conn)
            with conn:
                yield conn
        finally:
            conn.close()

    def _ensure_schema(self, conn: Conn) -> None:
        """Migrate the state DB when the token table is missing (``make connect`` on a new database), once per
        store, before and apart from the caller's transaction (a failed refresh must not undo the migration).
        Tasks find the table there already: the sync service migrates at the start of each run."""
        if self._ready:
            return
        if not rows.table_ready(conn):
            migrate(conn)
        conn.commit()
        self._ready = True

    def _encrypt(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def _decrypt(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.decrypt(value.encode("ascii")).decode("utf-8")

    def _row_to_tokens(self, row: rows.TokenRow | None, realm_id: str) -> TokenSet | None:
        if row is None:
            return None
        try:
            tokens = TokenSet(
                refresh_token=self._decrypt(row.refresh_token_enc) or "",
                access_token=self._decrypt(row.access_token_enc),
                expires_at=row.access_expires_at,
                refresh_expires_at=row.refresh_expires_at,
            )
        except InvalidToken:
            log.warning(
                "Stored QuickBooks tokens for realm %s cannot be decrypted (was the client secret changed?); "
                "ignoring them",
                realm_id,
            )
            return None
        register_secret(tokens.refresh_token)
        register_secret(tokens.access_token)
        return tokens

    # --------------------------------------------------------------------------------------------- API

    def save(
        self,
        realm_id: str,
        client_id: str,
        refresh_token: str,
        access_token: str | None = None,
        expires_at: datetime | None = None,
        refresh_expires_at: datetime | None = None,
    ) -> None:
        """Store (insert or replace) the tokens of a realm, e.g. after a person connected the app."""
        with self._transaction() as conn:
            self._upsert(conn, realm_id, client_id, TokenSet(refresh_token, access_token, expires_at, refresh_expires_at))

    def _upsert(self, conn: Conn, realm_id: str, client_id: str, tokens: TokenSet) -> None:
        register_secret(tokens.refresh_token)
        register_secret(tokens.access_token)
        row = rows.TokenRow(self._encrypt(tokens.refresh_token) or "", self._encrypt(tokens.access_token),
                            tokens.expires_at, tokens.refresh_expires_at)
        rows.put(conn, realm_id, client_id, row, refreshed_at=self._clock() if tokens.access_token else None)

    def load(self, realm_id: str, client_id: str) -> TokenSet | None:
        """The stored tokens, or None when there are none (or they cannot be decrypted)."""
        with self._transaction() as conn:
            return self._row_to_tokens(rows.get(conn, realm_id, client_id), realm_id)

    def refresh_locked(
        self,
        realm_id: str,
        client_id: str,
        refresh_fn: RefreshFn,
        *,
        initial_refresh_token: str | None = None,
        rejected_access_token: str | None = None,
        margin: timedelta = timedelta(minutes=5),
    ) -> TokenSet:
        """Return usable tokens, refreshing under a row lock and storing the result in the same transaction.

        If, once the lock is held, the row has an access token that is still valid and is not the one the
        caller just saw rejected, another process refreshed meanwhile: that one is returned without calling
        the token endpoint. ``initial_refresh_token`` (the connection's) seeds an empty store, and is tried
        once when the stored token is refused with ``invalid_grant`` and differs from it.
        """
        with self._transaction() as conn:
            stored = self._lock_row(conn, realm_id, client_id, initial_refresh_token)
            if (
                stored.access_valid(self._clock(), margin)
                and stored.access_token != rejected_access_token
            ):
                return stored
            fresh = self._call_refresh(stored.refresh_token, refresh_fn, initial_refresh_token)
            self._upsert(conn, realm_id, client_id, fresh)
            log.info("Stored refreshed QuickBooks tokens for realm %s", realm_id)
            return fresh

    def _lock_row(self, conn: Conn, realm_id: str, client_id: str, initial: str | None) -> TokenSet:
        if initial:
            rows.seed(conn, realm_id, client_id, self._encrypt(initial) or "")
        stored = self._row_to_tokens(rows.get(conn, realm_id, client_id, for_update=True), realm_id)
        if stored is None and initial:
            # The row exists but cannot be decrypted (client secret rotated): start again from the connection.
            stored = TokenSet(refresh_token=initial)
        if stored is None:
            raise ReauthorizationRequired(
                f"No QuickBooks refresh token is stored for realm {realm_id} and the connection has none. "
                + REAUTHORISE_HINT,
                api=QUICKBOOKS,
                code="no_refresh_token",
            )
        return stored

    @staticmethod
    def _call_refresh(current: str, refresh_fn: RefreshFn, initial: str | None) -> TokenSet:
        try:
            return refresh_fn(current)
        except ReauthorizationRequired:
            if not initial or initial == current:
                raise
            log.warning("The stored QuickBooks refresh token was refused; trying the one in the connection")
            return refresh_fn(initial)


def with_expiry(tokens: TokenSet, expires_in: float | None, refresh_expires_in: float | None, now: datetime) -> TokenSet:
    """Attach absolute expiry times computed from a token response's relative lifetimes."""
    return replace(
        tokens,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        refresh_expires_at=now + timedelta(seconds=refresh_expires_in) if refresh_expires_in else None,
    )
