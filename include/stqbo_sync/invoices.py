"""push_invoices: every eligible Synchroteam invoice reaches QuickBooks exactly once (placeholder until issue 7)."""

from __future__ import annotations

from typing import Any

from stqbo_sync import store
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi


def push(conn: store.Conn, qbo: QuickBooksApi, st: SynchroteamApi, tenant_id: int, run_id: str, mode: str,
         dry_run: bool, options: dict[str, Any]) -> dict[str, Any]:
    return {"pushed": 0}


def summary(conn: store.Conn, tenant_id: int, run_id: str) -> dict[str, Any]:
    return {"counts": {}, "rows": [], "notes": []}
