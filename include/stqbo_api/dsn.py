"""Addresses built from connection fields: API base URLs and PostgreSQL DSNs (no Airflow import)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def base_url(host: str | None, schema: str | None, port: int | None, default_scheme: str = "https") -> str | None:
    """The API base URL from a connection: ``host`` may be a full URL or a bare host name."""
    if not host:
        return None
    url = host.rstrip("/")
    if "://" not in url:
        scheme = schema if schema in ("http", "https") else default_scheme
        url = f"{scheme}://{url}"
        if port:
            url = f"{url}:{port}"
    return url


def postgres_dsn(host: str | None, port: int | None, login: str | None, password: str | None,
                 schema: str | None, extra: Mapping[str, Any] | None = None) -> str:
    """A psycopg2 DSN from the fields of a postgres connection (``schema`` is the database name)."""
    from psycopg2.extensions import make_dsn

    options: dict[str, Any] = {
        "host": host or None,
        "port": port or None,
        "user": login or None,
        "password": password or None,
        "dbname": schema or None,
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"):
        if extra and extra.get(key) not in (None, ""):
            options[key] = extra[key]
    return str(make_dsn(**{k: v for k, v in options.items() if v is not None}))
