"""``QuickBooksHook``: the Airflow face of ``QuickBooksClient``.

Built on Airflow's ``BaseHook`` plus a ``requests.Session`` rather than on ``HttpHook``: HttpHook's
``check_response`` throws the response body away (QuickBooks' ``Fault`` codes are in it), its auth is fixed
per connection while QuickBooks needs rotating OAuth tokens from a database, and its tenacity retries know
neither ``Retry-After`` nor request ids. The client lives in ``stqbo_api.quickbooks`` so that the sync core,
the ``make connect`` CLI and tests use exactly the same code without Airflow.

Connection ``quickbooks_default`` (type ``quickbooks``):

* ``host``: API base URL (``https://sandbox-quickbooks.api.intuit.com``, ``https://quickbooks.api.intuit.com``
  or a simulator); when empty, ``extra.environment`` (``sandbox``/``production``) picks it.
* ``login`` / ``password``: OAuth client id / client secret.
* ``extra``: ``realm_id`` (required), ``refresh_token`` (initial one: seeds the token store only when it has
  none for this realm and client), ``token_url`` (default Intuit's), ``environment``
  (``sandbox``/``production``/``custom``), and the invoice options ``use_synchroteam_invoice_numbers``,
  ``income_account_id``, ``item_type``, ``tax_codes``: parsed once into ``client.options``
  (``stqbo_api.options.QuickBooksOptions``); a bad value fails ``get_conn()`` with a message naming it.

The tokens live encrypted in the state DB (connection ``sync_state_db``), see ``stqbo_api.tokens``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from stqbo_api.dsn import base_url, postgres_dsn
from stqbo_api.options import QuickBooksOptions, extra_value
from stqbo_api.quickbooks import DEFAULT_TOKEN_URL, QuickBooksClient
from stqbo_api.redact import add_listener
from stqbo_api.tokens import TokenStore
from stqbo_hooks.checks import TEST_RETRY_POLICY, Target, quickbooks_failure, unusable
from stqbo_hooks.connections import (
    QUICKBOOKS_CONN_FIELDS,
    QUICKBOOKS_UI_BEHAVIOUR,
    airflow_masker,
    legacy_widgets,
)

STATE_DB_CONN_ID = "sync_state_db"


def state_db_dsn(conn_id: str = STATE_DB_CONN_ID) -> str:
    """A psycopg2 DSN for the state DB connection (PostgresHook.get_conn() would give psycopg 3)."""
    conn = BaseHook.get_connection(conn_id)
    return postgres_dsn(conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson)


class QuickBooksHook(BaseHook):
    """QuickBooks Online for one realm: ``get_conn()`` returns the configured ``QuickBooksClient`` (as HttpHook's
    returns its session); everything the sync does goes through that client."""

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

    def _build_client(self, **overrides: Any) -> QuickBooksClient:
        add_listener(airflow_masker)
        conn = self.get_connection(self.quickbooks_conn_id)
        extra = conn.extra_dejson
        options = QuickBooksOptions.from_extra(extra, self.conn_type, self.quickbooks_conn_id)
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
            options=options,
            **{**self._client_options, **overrides},
        )

    def test_connection(self) -> tuple[bool, str]:
        """The form's Test button: reads CompanyInfo with a fresh client (which also proves the state DB, the token
        store and the refresh token), retrying only briefly; a failure names the field to fix, never a value."""
        target = Target("QuickBooks", "", self.quickbooks_conn_id)
        try:
            client = self._build_client(retry_policy=TEST_RETRY_POLICY)
        except Exception as err:  # a missing field, a bad option, no state DB connection
            return False, unusable(target, err)
        target = Target("QuickBooks", client.base_url, self.quickbooks_conn_id)
        try:
            info = client.get_company_info()
        except Exception as err:
            return False, quickbooks_failure(target, client.realm_id, err)
        name = info.get("CompanyName") or info.get("LegalName") or "?"
        return True, f"Connected to QuickBooks company '{name}' (realm {client.realm_id}, {client.environment})."
