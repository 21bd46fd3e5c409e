"""Every QuickBooks ``requestid`` the connector sends, in one place.

Ids are derived from the business key of the write, never random: the same logical write after a crash, a task
retry or a cleared run carries the same id, so QuickBooks replays its first answer instead of applying the write
twice; a different write (a new payload version, a new plan row) gets a new id. QuickBooks allows 50 characters
(36 for a batch request, whose items add ``-<n>``).
"""

from __future__ import annotations

import hashlib

MAX_LENGTH = 50


def _digest(text: str, size: int) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:size]


def tenant_key(st_domain: str, realm_id: str, tenant_id: int) -> str:
    """What makes invoice and item ids unique across tenants sharing a QuickBooks company."""
    return f"{st_domain}|{realm_id}|{tenant_id}"


def plan_row(tenant_id: int, run_id: str, seq: int, op: str) -> str:
    """A customer write planned as row ``seq`` of a run's plan (``op`` tells the write's kind and attempt)."""
    return f"stqbo-{_digest(f'{tenant_id}|{run_id}|{seq}', 24)}-{op}"


def invoice_write(key: str, st_id: int, version: str, op: str) -> str:
    """Same logical write -> same id (so QuickBooks replays instead of repeating); new version -> new id."""
    return f"stqbo-{op}-{_digest(f'{key}|{st_id}|{version}|{op}', 20)}"[:MAX_LENGTH]


def batch_prefix(key: str, writes: list[tuple[int, str]]) -> str:
    """At most 33 characters, so the hook's ``-<n>`` suffix keeps it within QuickBooks' 36 for a batch."""
    text = key + "|" + ",".join(f"{st_id}:{version}" for st_id, version in sorted(writes))
    return "stqbo-b-" + _digest(text, 24)
