"""``SynchroteamHook``: the Airflow face of ``SynchroteamClient``.

Built on ``BaseHook`` plus ``requests.Session`` for the same reasons as ``QuickBooksHook`` (HttpHook drops
error bodies and knows nothing of ``X-Quota-*``), and so that the client works without Airflow.

Connection ``synchroteam_default`` (type ``synchroteam``): ``host`` = API base URL (default
``https://ws.synchroteam.com``), ``login`` = account domain (the ``mycompany`` of mycompany.synchroteam.com),
``password`` = API key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from airflow.sdk import BaseHook

from stqbo_hooks.connections import SYNCHROTEAM_UI_BEHAVIOUR, base_url
from stqbo_hooks.redact import add_listener, scrub
from stqbo_hooks.synchroteam_client import DEFAULT_BASE_URL, SynchroteamClient, format_since, parse_date


def _airflow_masker(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class SynchroteamHook(BaseHook):
    """One Synchroteam account; every method of ``SynchroteamClient`` is available here."""

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

    def get_conn(self) -> SynchroteamClient:
        if self._client is None:
            add_listener(_airflow_masker)
            conn = self.get_connection(self.synchroteam_conn_id)
            self._client = SynchroteamClient(
                base_url(conn.host, conn.schema, conn.port) or DEFAULT_BASE_URL,
                conn.login or "",
                conn.password or "",
                **self._client_options,
            )
        return self._client

    @property
    def client(self) -> SynchroteamClient:
        return self.get_conn()

    # ------------------------------------------------------------------------------- delegated interface

    @property
    def domain(self) -> str:
        return self.client.domain

    format_since = staticmethod(format_since)
    parse_date = staticmethod(parse_date)

    def list_customers(
        self, changed_since: datetime | None = None, active: bool | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.client.list_customers(changed_since, active)

    def get_customer(
        self, *, id: int | None = None, my_id: str | None = None, name: str | None = None
    ) -> dict[str, Any] | None:
        return self.client.get_customer(id=id, my_id=my_id, name=name)

    def send_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.send_customer(body)

    def delete_customer(self, *, id: int | None = None, my_id: str | None = None) -> None:
        self.client.delete_customer(id=id, my_id=my_id)

    def list_invoices(
        self,
        changed_since: datetime | None = None,
        created_since: datetime | None = None,
        paid_since: datetime | None = None,
        status: str | None = None,
        customer_id: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        return self.client.list_invoices(changed_since, created_since, paid_since, status, customer_id)

    def get_invoice(self, id: int) -> dict[str, Any] | None:
        return self.client.get_invoice(id)

    def list_parts(self, changed_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        return self.client.list_parts(changed_since)

    def get_part(self, reference: str) -> dict[str, Any] | None:
        return self.client.get_part(reference)

    def send_part(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.send_part(body)

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI's Test button: reads one customer."""
        try:
            client = self.get_conn()
        except Exception as err:
            return False, f"Synchroteam connection is not usable: {scrub(str(err), limit=300)}"
        return client.test_connection()
