"""``QuickBooksHook``: the Airflow face of ``QuickBooksClient``.

Built on Airflow's ``BaseHook`` plus a ``requests.Session`` rather than on ``HttpHook``: HttpHook's
``check_response`` throws the response body away (QuickBooks' ``Fault`` codes are in it), its auth is fixed
per connection while QuickBooks needs rotating OAuth tokens from a database, and its tenacity retries know
neither ``Retry-After`` nor request ids. The transport lives in ``quickbooks_client`` so that the sync core,
the ``make connect`` CLI and tests use exactly the same code without Airflow.

Connection ``quickbooks_default`` (type ``quickbooks``):

* ``host``: API base URL (``https://sandbox-quickbooks.api.intuit.com``, ``https://quickbooks.api.intuit.com``
  or a simulator); when empty, ``extra.environment`` (``sandbox``/``production``) picks it.
* ``login`` / ``password``: OAuth client id / client secret.
* ``extra``: ``realm_id`` (required), ``refresh_token`` (initial one: seeds the token store only when it has
  none for this realm and client), ``token_url`` (default Intuit's), ``environment``
  (``sandbox``/``production``/``custom``), ``use_synchroteam_invoice_numbers`` (bool, default false).

The tokens live encrypted in the state DB (connection ``sync_state_db``), see ``tokens.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseHook

from stqbo_hooks.connections import (
    QUICKBOOKS_CONN_FIELDS,
    QUICKBOOKS_UI_BEHAVIOUR,
    as_bool,
    base_url,
    extra_value,
    legacy_widgets,
    postgres_dsn,
)
from stqbo_hooks.quickbooks_client import (
    DEFAULT_TOKEN_URL,
    BatchResult,
    CdcResult,
    QuickBooksClient,
)
from stqbo_hooks.redact import add_listener
from stqbo_hooks.tokens import TokenStore

STATE_DB_CONN_ID = "sync_state_db"


def _airflow_masker(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


def state_db_dsn(conn_id: str = STATE_DB_CONN_ID) -> str:
    """A psycopg2 DSN for the state DB connection (PostgresHook.get_conn() would give psycopg 3)."""
    conn = BaseHook.get_connection(conn_id)
    return postgres_dsn(conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson)


class QuickBooksHook(BaseHook):
    """QuickBooks Online for one realm; every method of ``QuickBooksClient`` is available here."""

    conn_name_attr = "quickbooks_conn_id"
    default_conn_name = "quickbooks_default"
    conn_type = "quickbooks"
    hook_name = "QuickBooks Online"

    def __init__(
        self,
        quickbooks_conn_id: str = default_conn_name,
        state_db_conn_id: str = STATE_DB_CONN_ID,
        *,
        state_db_dsn: str | None = None,
        **client_options: Any,
    ) -> None:
        super().__init__()
        self.quickbooks_conn_id = quickbooks_conn_id
        self.state_db_conn_id = state_db_conn_id
        self._state_db_dsn = state_db_dsn
        self._client_options = client_options
        self._client: QuickBooksClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return dict(QUICKBOOKS_UI_BEHAVIOUR)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return legacy_widgets(QUICKBOOKS_CONN_FIELDS)

    def get_conn(self) -> QuickBooksClient:
        """The client, built on first use from the connection (no network or DB access before that)."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    @property
    def client(self) -> QuickBooksClient:
        return self.get_conn()

    def _build_client(self) -> QuickBooksClient:
        add_listener(_airflow_masker)
        conn = self.get_connection(self.quickbooks_conn_id)
        extra = conn.extra_dejson
        secret = conn.password or ""
        dsn = self._state_db_dsn or state_db_dsn(self.state_db_conn_id)
        return QuickBooksClient(
            base_url=base_url(conn.host, conn.schema, conn.port),
            realm_id=str(extra_value(extra, "realm_id", self.conn_type) or ""),
            client_id=conn.login or "",
            client_secret=secret,
            token_store=TokenStore(dsn, secret),
            token_url=extra_value(extra, "token_url", self.conn_type) or DEFAULT_TOKEN_URL,
            initial_refresh_token=extra_value(extra, "refresh_token", self.conn_type),
            environment=extra_value(extra, "environment", self.conn_type),
            use_synchroteam_invoice_numbers=as_bool(
                extra_value(extra, "use_synchroteam_invoice_numbers", self.conn_type)
            ),
            **self._client_options,
        )

    # ------------------------------------------------------------------------------- delegated interface

    @property
    def realm_id(self) -> str:
        return self.client.realm_id

    @property
    def environment(self) -> str:
        return self.client.environment

    @property
    def use_synchroteam_invoice_numbers(self) -> bool:
        return self.client.use_synchroteam_invoice_numbers

    def query(self, statement: str) -> Iterator[dict[str, Any]]:
        return self.client.query(statement)

    def count(self, statement: str) -> int:
        return self.client.count(statement)

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CdcResult:
        return self.client.cdc(entities, changed_since)

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        return self.client.get(entity, entity_id)

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        return self.client.create(entity, body, request_id)

    def update(self, entity: str, body: dict[str, Any], request_id: str, sparse: bool = True) -> dict[str, Any]:
        return self.client.update(entity, body, request_id, sparse=sparse)

    def deactivate_customer(self, customer_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self.client.deactivate_customer(customer_id, sync_token, request_id)

    def deactivate(self, entity: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self.client.deactivate(entity, entity_id, sync_token, request_id)

    def void_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self.client.void_invoice(invoice_id, sync_token, request_id)

    def delete_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self.client.delete_invoice(invoice_id, sync_token, request_id)

    def find_by_display_name(self, name: str) -> list[dict[str, Any]]:
        return self.client.find_by_display_name(name)

    def batch(self, items: list[dict[str, Any]], request_id_prefix: str | None = None) -> dict[str, BatchResult]:
        return self.client.batch(items, request_id_prefix)

    def get_preferences(self) -> dict[str, Any]:
        return self.client.get_preferences()

    def get_company_info(self) -> dict[str, Any]:
        return self.client.get_company_info()

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI's Test button: reads CompanyInfo (also proves the state DB and refresh token)."""
        try:
            client = self.get_conn()
        except Exception as err:  # a missing field or connection: say which, never echo values
            return False, f"QuickBooks connection is not usable: {_safe(err)}"
        return client.test_connection()


def _safe(err: Exception) -> str:
    from stqbo_hooks.redact import scrub

    return scrub(str(err), limit=300) or type(err).__name__
