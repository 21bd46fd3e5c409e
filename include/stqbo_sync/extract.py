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

from stqbo_store import extracts, staging
from stqbo_store import mapping as mapping_db
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.types import Mode, RunContext

log = logging.getLogger(__name__)

ST_OVERLAP = timedelta(minutes=2)
QBO_OVERLAP = timedelta(minutes=1)
CDC_MAX_AGE = timedelta(days=29, hours=12)
FULL_RECONCILE_EVERY = timedelta(hours=24)
ALL_CUSTOMERS = "SELECT * FROM Customer WHERE Active IN (true, false)"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _full_read_due(ctx: RunContext, side: str, watermark: str | None) -> bool:
    if ctx.mode in (Mode.UPLOAD, Mode.DOWNLOAD) or watermark is None:
        return True
    last = extracts.last_full_read(ctx, side, "customer")
    return last is None or utcnow() - last >= FULL_RECONCILE_EVERY


def extract_synchroteam(ctx: RunContext, st: SynchroteamApi, now: datetime | None = None) -> dict[str, Any]:
    """Stage customers (changed or all) and invoices changed since the watermark, plus the customers of those
    invoices that are not linked yet (so `load_changes` creates them before `push_invoices` needs them)."""
    now = now or utcnow()
    wm = extracts.get_watermark(ctx, "st", "customer")
    full = _full_read_due(ctx, "st", wm)
    since = None if full else datetime.fromisoformat(wm) - ST_OVERLAP  # type: ignore[arg-type]
    customers = {int(c["id"]): c for c in st.list_customers(changed_since=since, active=None)}
    inv_wm = extracts.get_watermark(ctx, "st", "invoice")
    inv_since = datetime.fromisoformat(inv_wm) - ST_OVERLAP if inv_wm else None
    invoices = {int(i["id"]): i for i in st.list_invoices(changed_since=inv_since)} if ctx.mode == Mode.SYNC else {}
    for invoice in invoices.values():
        cid = (invoice.get("customer") or {}).get("id")
        if cid is None or int(cid) in customers or mapping_db.link_for_st(ctx, int(cid)):
            continue
        found = st.get_customer(id=int(cid))
        if found is not None:
            customers[int(cid)] = found
    staging.replace(ctx, "st_customer", customers.items())
    staging.replace(ctx, "st_invoice", invoices.items())
    extracts.record_extract(ctx, "st", "customer", full, len(customers), now.isoformat())
    if ctx.mode == Mode.SYNC:
        extracts.record_extract(ctx, "st", "invoice", inv_wm is None, len(invoices), now.isoformat())
    log.info("Synchroteam: staged %d customers (%s read) and %d invoices", len(customers),
             "full" if full else f"changed since {since:%Y-%m-%d %H:%M:%S}", len(invoices))  # type: ignore[str-format]
    return {"customers": len(customers), "invoices": len(invoices), "full_read": full}


def extract_quickbooks(ctx: RunContext, qbo: QuickBooksApi) -> dict[str, Any]:
    """Stage QuickBooks customers (CDC since the watermark, or all) and every vendor and employee name."""
    wm = extracts.get_watermark(ctx, "qbo", "customer")
    full = _full_read_due(ctx, "qbo", wm)
    if not full and wm is not None and utcnow() - datetime.fromisoformat(wm) > CDC_MAX_AGE:
        full = True  # CDC looks back at most 30 days
    if full:
        started = utcnow()
        customers = {str(c["Id"]): c for c in qbo.query(ALL_CUSTOMERS)}
        next_wm = (started - QBO_OVERLAP).isoformat()
    else:
        result = qbo.cdc(["Customer"], datetime.fromisoformat(wm) - QBO_OVERLAP)  # type: ignore[arg-type]
        customers = {str(c["Id"]): c for c in result.objects.get("Customer", []) if c.get("status") != "Deleted"}
        next_wm = datetime.fromisoformat(result.time).astimezone(UTC).isoformat()
    others = [(entity, str(o["Id"]), o.get("DisplayName") or "")
              for entity in ("Vendor", "Employee")
              for o in qbo.query(f"SELECT * FROM {entity} WHERE Active IN (true, false)")]
    staging.replace(ctx, "qbo_customer", customers.items())
    staging.replace_other_names(ctx, others)
    extracts.record_extract(ctx, "qbo", "customer", full, len(customers), next_wm)
    log.info("QuickBooks: staged %d customers (%s read), %d vendor/employee names", len(customers),
             "full" if full else "CDC", len(others))
    return {"customers": len(customers), "other_names": len(others), "full_read": full}
