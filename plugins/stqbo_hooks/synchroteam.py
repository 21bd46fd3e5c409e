"""``SynchroteamHook``: the Airflow face of ``SynchroteamClient``.

Built on ``BaseHook`` plus ``requests.Session`` for the same reasons as ``QuickBooksHook`` (HttpHook drops
error bodies and knows nothing of ``X-Quota-*``), and so that the client works without Airflow.

Connection ``synchroteam_default`` (type ``synchroteam``): ``host`` = API base URL (default
``https://ws.synchroteam.com``), ``login`` = account domain (the ``mycompany`` of mycompany.synchroteam.com),
``password`` = API key, ``extra.timezone`` = the account's IANA time zone (required: Synchroteam speaks local time).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from stqbo_api.dsn import base_url
from stqbo_api.options import extra_value
from stqbo_api.redact import add_listener
from stqbo_api.synchroteam import DEFAULT_BASE_URL, SynchroteamClient, account_zone
from stqbo_hooks.checks import TEST_RETRY_POLICY, Target, synchroteam_failure, unusable
from stqbo_hooks.connections import (
    SYNCHROTEAM_CONN_FIELDS,
    SYNCHROTEAM_UI_BEHAVIOUR,
    airflow_masker,
    legacy_widgets,
)


class SynchroteamHook(BaseHook):
    """One Synchroteam account: ``get_conn()`` returns the configured ``SynchroteamClient``."""

    conn_name_attr = "synchroteam_conn_id"
    default_conn_name = "synchroteam_default"
    conn_type = "synchroteam"
    hook_name = "Synchroteam"

    def __init__(self, synchroteam_conn_id: str = default_conn_name, **client_options: Any) -> None:
        super().__init__()
        self.synchroteam_conn_id = synchroteam_conn_id
        self._client_options = client_options
        self._client: SynchroteamClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return dict(SYNCHROTEAM_UI_BEHAVIOUR)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return legacy_widgets(SYNCHROTEAM_CONN_FIELDS)

    def get_conn(self) -> SynchroteamClient:
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self, **overrides: Any) -> SynchroteamClient:
        add_listener(airflow_masker)
        conn = self.get_connection(self.synchroteam_conn_id)
        return SynchroteamClient(
            base_url(conn.host, conn.schema, conn.port) or DEFAULT_BASE_URL,
            conn.login or "",
            conn.password or "",
            timezone=account_zone(extra_value(conn.extra_dejson, "timezone", self.conn_type),
                                  f"connection {self.synchroteam_conn_id}").key,
            **{**self._client_options, **overrides},
        )

    def test_connection(self) -> tuple[bool, str]:
        """The form's Test button: reads one customer with a fresh client, retrying only briefly; a failure
        names the field to fix, never a value."""
        target = Target("Synchroteam", "", self.synchroteam_conn_id)
        try:
            client = self._build_client(retry_policy=TEST_RETRY_POLICY, page_size=1)
        except Exception as err:  # domain, API key or time zone missing or invalid
            return False, unusable(target, err)
        target = Target("Synchroteam", client.base_url, self.synchroteam_conn_id)
        try:
            next(iter(client.list_customers(active=True)), None)
        except Exception as err:
            return False, synchroteam_failure(target, err)
        return True, f"Connected to Synchroteam account '{client.domain}' (time zone {client.timezone})."
