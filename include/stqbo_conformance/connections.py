"""The DAG's three connections, read without Airflow, and the clients built from them as the hooks build them.

The check must talk to exactly what the DAG talks to, with the same token store (QuickBooks rotates refresh
tokens: a check that refreshed into another database would leave the DAG's stored token superseded). So it reads
the same ``AIRFLOW_CONN_*`` variables, in Airflow's JSON form or its URI form, and builds the clients with the
same fields and extras as ``stqbo_hooks`` (``stqbo_api.dsn``, ``stqbo_api.options``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from stqbo_api.dsn import base_url, postgres_dsn
from stqbo_api.options import QuickBooksOptions, extra_value
from stqbo_api.quickbooks import DEFAULT_TOKEN_URL, QuickBooksClient, environment_of
from stqbo_api.redact import register_secret
from stqbo_api.synchroteam import DEFAULT_BASE_URL, SynchroteamClient
from stqbo_api.tokens import TokenStore

QUICKBOOKS_ENV = "AIRFLOW_CONN_QUICKBOOKS_DEFAULT"
SYNCHROTEAM_ENV = "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT"
STATE_DB_ENV = "AIRFLOW_CONN_SYNC_STATE_DB"


class ConnectionProblem(ValueError):
    """A connection cannot be used; the message names it and never carries a value."""


@dataclass(frozen=True)
class ConnFields:
    """The standard fields of an Airflow connection (the password stays out of ``repr``)."""

    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_connection(value: str, name: str) -> ConnFields:
    """An ``AIRFLOW_CONN_*`` value: JSON (``{"conn_type", "host", "login", ...}``) or a URI
    (``type://login:password@host:port/schema?extra=...``, ``__extra__`` holding JSON), as Airflow reads them."""
    text = value.strip()
    try:
        fields = _from_json(text) if text.startswith("{") else _from_uri(text)
    except (ValueError, TypeError):
        raise ConnectionProblem(f"the connection {name} is neither Airflow's JSON form nor a connection URI") from None
    register_secret(fields.password)
    for key in ("refresh_token", "api_key"):
        register_secret(fields.extra.get(key) if isinstance(fields.extra.get(key), str) else None)
    return fields


def _from_json(text: str) -> ConnFields:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra or "{}")
    port = data.get("port")
    return ConnFields(data.get("conn_type"), data.get("host"), data.get("schema"), data.get("login"),
                      data.get("password"), int(port) if port not in (None, "") else None, dict(extra))


def _from_uri(text: str) -> ConnFields:
    scheme, rest = text.split("://", 1)
    head, sep, tail = rest.partition("://")
    protocol = None
    if sep and not any(ch in head for ch in "@:/?"):   # quickbooks://http://login:pw@127.0.0.1:8701 (Airflow's form)
        protocol, rest = head, tail
    parts = urlsplit("//" + rest)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = json.loads(query["__extra__"]) if "__extra__" in query else query
    host = unquote(parts.hostname or "")
    if protocol:
        host = f"{protocol}://{host}"
    return ConnFields(scheme.replace("-", "_"), host or None, unquote(parts.path[1:]) or None,
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, parts.port, dict(extra))


def state_db_dsn(fields: ConnFields) -> str:
    return postgres_dsn(fields.host, fields.port, fields.login, fields.password, fields.schema, fields.extra)


def quickbooks_client(fields: ConnFields, dsn: str) -> QuickBooksClient:
    """The client ``QuickBooksHook.get_conn()`` would build from these fields."""
    extra = fields.extra
    secret = fields.password or ""
    if not fields.login or not secret:
        raise ConnectionProblem("the QuickBooks connection needs the app's client id (login) and secret (password)")
    return QuickBooksClient(
        base_url=base_url(fields.host, fields.schema, fields.port),
        realm_id=str(extra_value(extra, "realm_id", "quickbooks") or ""),
        client_id=fields.login,
        client_secret=secret,
        token_store=TokenStore(dsn, secret),
        token_url=extra_value(extra, "token_url", "quickbooks") or DEFAULT_TOKEN_URL,
        initial_refresh_token=extra_value(extra, "refresh_token", "quickbooks"),
        environment=extra_value(extra, "environment", "quickbooks"),
        options=QuickBooksOptions.from_extra(extra, "quickbooks", "quickbooks_default"),
    )


def is_sandbox(client: QuickBooksClient) -> bool:
    """A sandbox company: the connection says so and its host is not Intuit's production API."""
    return client.environment == "sandbox" and environment_of(client.base_url) != "production"


@dataclass(frozen=True)
class SynchroteamAccess:
    """What the Synchroteam probes need: the client and, for the raw wire, where and as whom to call."""

    client: SynchroteamClient
    base_url: str
    domain: str
    api_key: str = field(repr=False)


def synchroteam_access(fields: ConnFields) -> SynchroteamAccess:
    """The client ``SynchroteamHook.get_conn()`` would build (its ``timezone`` extra is required)."""
    if not fields.login or not fields.password:
        raise ConnectionProblem("the Synchroteam connection needs the account domain (login) and API key (password)")
    url = base_url(fields.host, fields.schema, fields.port) or DEFAULT_BASE_URL
    client = SynchroteamClient(url, fields.login, fields.password,
                               timezone=extra_value(fields.extra, "timezone", "synchroteam"))
    return SynchroteamAccess(client, client.base_url, fields.login, fields.password)


def from_environment(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value and value.strip() else None
