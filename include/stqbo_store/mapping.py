"""What links the two sides (schema ``mapping``): customer links, the base of each side of a linked pair, item
links, and name groups reported as ambiguous (``sync.ambiguous_name``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from stqbo_store import Scope


def links(s: Scope) -> list[tuple[int, str, bool]]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT st_id, qbo_id, st_deleted FROM mapping.customer_link WHERE tenant_id=%s", (s.tenant_id,))
        return [(int(r[0]), str(r[1]), bool(r[2])) for r in cur.fetchall()]


def link_for_st(s: Scope, st_id: int) -> str | None:
    with s.conn.cursor() as cur:
        cur.execute("SELECT qbo_id FROM mapping.customer_link WHERE tenant_id=%s AND st_id=%s", (s.tenant_id, st_id))
        row = cur.fetchone()
    return None if row is None else str(row[0])


def link_for_qbo(s: Scope, qbo_id: str) -> int | None:
    with s.conn.cursor() as cur:
        cur.execute("SELECT st_id FROM mapping.customer_link WHERE tenant_id=%s AND qbo_id=%s", (s.tenant_id, qbo_id))
        row = cur.fetchone()
    return None if row is None else int(row[0])


def add_link(s: Scope, st_id: int, qbo_id: str, linked_by: str) -> None:
    """Link one pair; the unique constraints on both columns make a second link of either record fail loudly."""
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.customer_link (tenant_id, st_id, qbo_id, linked_by, run_id) VALUES (%s,%s,%s,%s,%s) "
            "ON CONFLICT (tenant_id, st_id) DO NOTHING",
            (s.tenant_id, st_id, qbo_id, linked_by, s.run_id),
        )


def mark_st_deleted(s: Scope, st_id: int) -> None:
    with s.conn.cursor() as cur:
        cur.execute("UPDATE mapping.customer_link SET st_deleted = true WHERE tenant_id=%s AND st_id=%s",
                    (s.tenant_id, st_id))


def bases(s: Scope, side: str) -> dict[str, dict[str, Any]]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT record_id, canon, version FROM mapping.customer_base WHERE tenant_id=%s AND side=%s",
                    (s.tenant_id, side))
        return {str(r[0]): {"canon": r[1], "version": r[2]} for r in cur.fetchall()}


def base(s: Scope, side: str, record_id: str) -> dict[str, Any] | None:
    with s.conn.cursor() as cur:
        cur.execute("SELECT canon, version FROM mapping.customer_base WHERE tenant_id=%s AND side=%s AND record_id=%s",
                    (s.tenant_id, side, record_id))
        row = cur.fetchone()
    return None if row is None else {"canon": row[0], "version": row[1]}


def save_base(s: Scope, side: str, record_id: str, canon: dict[str, Any], version: str | None,
              modified_at: datetime | None = None) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.customer_base (tenant_id, side, record_id, canon, version, modified_at) "
            "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, side, record_id) DO UPDATE SET canon=EXCLUDED.canon, "
            "version=EXCLUDED.version, modified_at=EXCLUDED.modified_at, updated_at=now()",
            (s.tenant_id, side, record_id, json.dumps(canon), version, modified_at),
        )


def ambiguous_keys(s: Scope) -> set[str]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT key FROM sync.ambiguous_name WHERE tenant_id=%s", (s.tenant_id,))
        return {str(r[0]) for r in cur.fetchall()}


def save_ambiguous(s: Scope, groups: list[dict[str, Any]], resolved: set[str], replace_all: bool) -> None:
    """Record this run's ambiguous groups; forget keys that got linked; a run that read both sides in full
    replaces the list (a group no longer ambiguous disappears)."""
    with s.conn.cursor() as cur:
        if replace_all:
            cur.execute("DELETE FROM sync.ambiguous_name WHERE tenant_id=%s", (s.tenant_id,))
        elif resolved:
            cur.execute("DELETE FROM sync.ambiguous_name WHERE tenant_id=%s AND key = ANY(%s)",
                        (s.tenant_id, sorted(resolved)))
        for g in groups:
            cur.execute(
                "INSERT INTO sync.ambiguous_name (tenant_id, key, st_ids, qbo_ids, run_id) VALUES (%s,%s,%s,%s,%s) "
                "ON CONFLICT (tenant_id, key) DO UPDATE SET st_ids=EXCLUDED.st_ids, qbo_ids=EXCLUDED.qbo_ids, "
                "run_id=EXCLUDED.run_id, updated_at=now()",
                (s.tenant_id, g["key"], g["st_ids"], g["qbo_ids"], s.run_id),
            )


def item_links(s: Scope) -> dict[str, str]:
    with s.conn.cursor() as cur:
        cur.execute("SELECT part_ref, qbo_item_id FROM mapping.item_link WHERE tenant_id=%s", (s.tenant_id,))
        return {str(r[0]): str(r[1]) for r in cur.fetchall()}


def add_item_link(s: Scope, part_ref: str, qbo_item_id: str, linked_by: str) -> None:
    with s.conn.cursor() as cur:
        cur.execute(
            "INSERT INTO mapping.item_link (tenant_id, part_ref, qbo_item_id, linked_by, run_id) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT (tenant_id, part_ref) DO UPDATE SET qbo_item_id=EXCLUDED.qbo_item_id, "
            "linked_by=EXCLUDED.linked_by, run_id=EXCLUDED.run_id",
            (s.tenant_id, part_ref, qbo_item_id, linked_by, s.run_id),
        )


def drop_item_links(s: Scope, qbo_item_ids: list[str]) -> None:
    """Forget links to items QuickBooks refused (deleted or made inactive): the next run resolves them again."""
    with s.conn.cursor() as cur:
        cur.execute("DELETE FROM mapping.item_link WHERE tenant_id=%s AND qbo_item_id = ANY(%s)",
                    (s.tenant_id, qbo_item_ids))
