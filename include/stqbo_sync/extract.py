"""extract_synchroteam / extract_quickbooks: read what changed (or everything) and stage it for this run.

Change detection:
- Synchroteam: ``changedSince`` on customers and invoices, in UTC; responses are at minute precision, so the
  window overlaps the watermark by `ST_OVERLAP` and records are de-duplicated by id.
- QuickBooks: CDC for Customer (at most 30 days back, else a full query), its response ``time`` becoming the next
  watermark.
- A full read of both sides runs for upload/download, on the first run, and in sync mode once a day
  (`FULL_RECONCILE_EVERY`) to see what change feeds cannot show (deletions in Synchroteam, missed events).
Watermarks are only proposed here; `report` commits them when the run's writes have committed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from stqbo_sync import store
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi

log = logging.getLogger(__name__)

ST_OVERLAP = timedelta(minutes=2)
QBO_OVERLAP = timedelta(minutes=1)
CDC_MAX_AGE = timedelta(days=29, hours=12)
FULL_RECONCILE_EVERY = timedelta(hours=24)
ALL_CUSTOMERS = "SELECT * FROM Customer WHERE Active IN (true, false)"


def _full_read_due(conn: store.Conn, tenant_id: int, side: str, mode: str, watermark: str | None) -> bool:
    if mode in ("upload", "download") or watermark is None:
        return True
    last = store.last_full_read(conn, tenant_id, side, "customer")
    return last is None or store.utcnow() - last >= FULL_RECONCILE_EVERY


def extract_synchroteam(conn: store.Conn, st: SynchroteamApi, tenant_id: int, run_id: str, mode: str,
                        now: datetime | None = None) -> dict[str, Any]:
    """Stage customers (changed or all) and invoices changed since the watermark, plus the customers of those
    invoices that are not linked yet (so `load_changes` creates them before `push_invoices` needs them)."""
    now = now or store.utcnow()
    wm = store.get_watermark(conn, tenant_id, "st", "customer")
    full = _full_read_due(conn, tenant_id, "st", mode, wm)
    since = None if full else datetime.fromisoformat(wm) - ST_OVERLAP  # type: ignore[arg-type]
    customers = {int(c["id"]): c for c in st.list_customers(changed_since=since, active=None)}
    inv_wm = store.get_watermark(conn, tenant_id, "st", "invoice")
    inv_since = datetime.fromisoformat(inv_wm) - ST_OVERLAP if inv_wm else None
    invoices = {int(i["id"]): i for i in st.list_invoices(changed_since=inv_since)} if mode == "sync" else {}
    for invoice in invoices.values():
        cid = (invoice.get("customer") or {}).get("id")
        if cid is None or int(cid) in customers or store.link_for_st(conn, tenant_id, int(cid)):
            continue
        found = st.get_customer(id=int(cid))
        if found is not None:
            customers[int(cid)] = found
    store.replace_staged(conn, "st_customer", tenant_id, run_id, customers.items())
    store.replace_staged(conn, "st_invoice", tenant_id, run_id, invoices.items())
    store.record_extract(conn, tenant_id, run_id, "st", "customer", full, len(customers), now.isoformat())
    if mode == "sync":
        store.record_extract(conn, tenant_id, run_id, "st", "invoice", inv_wm is None, len(invoices), now.isoformat())
    conn.commit()
    log.info("Synchroteam: staged %d customers (%s read) and %d invoices", len(customers),
             "full" if full else f"changed since {since:%Y-%m-%d %H:%M:%S}", len(invoices))  # type: ignore[str-format]
    return {"customers": len(customers), "invoices": len(invoices), "full_read": full}


def extract_quickbooks(conn: store.Conn, qbo: QuickBooksApi, tenant_id: int, run_id: str, mode: str) -> dict[str, Any]:
    """Stage QuickBooks customers (CDC since the watermark, or all) and every vendor and employee name."""
    wm = store.get_watermark(conn, tenant_id, "qbo", "customer")
    full = _full_read_due(conn, tenant_id, "qbo", mode, wm)
    if not full and wm is not None and store.utcnow() - datetime.fromisoformat(wm) > CDC_MAX_AGE:
        full = True  # CDC looks back at most 30 days
    if full:
        started = store.utcnow()
        customers = {str(c["Id"]): c for c in qbo.query(ALL_CUSTOMERS)}
        next_wm = (started - QBO_OVERLAP).isoformat()
    else:
        result = qbo.cdc(["Customer"], datetime.fromisoformat(wm) - QBO_OVERLAP)  # type: ignore[arg-type]
        customers = {str(c["Id"]): c for c in result.objects.get("Customer", []) if c.get("status") != "Deleted"}
        next_wm = datetime.fromisoformat(result.time).astimezone(UTC).isoformat()
    others = [(entity, str(o["Id"]), o.get("DisplayName") or "")
              for entity in ("Vendor", "Employee")
              for o in qbo.query(f"SELECT * FROM {entity} WHERE Active IN (true, false)")]
    store.replace_staged(conn, "qbo_customer", tenant_id, run_id, customers.items())
    store.replace_other_names(conn, tenant_id, run_id, others)
    store.record_extract(conn, tenant_id, run_id, "qbo", "customer", full, len(customers), next_wm)
    conn.commit()
    log.info("QuickBooks: staged %d customers (%s read), %d vendor/employee names", len(customers),
             "full" if full else "CDC", len(others))
    return {"customers": len(customers), "other_names": len(others), "full_read": full}
