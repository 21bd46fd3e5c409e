"""Reading an Airflow connection's extras the same way everywhere (no Airflow import: plain mappings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def extra_value(extra: Mapping[str, Any], name: str, conn_type: str) -> Any:
    """An extra field, in its plain form or the older ``extra__<type>__<name>`` form written by old UIs."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if value == "" else value


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y", "t")
