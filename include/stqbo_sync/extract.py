"""extract_synchroteam / extract_quickbooks: read what changed (or everything) and stage it for this run.

Which window each read covers, and when a full read is due, is decided by `watermarks`; the watermarks are only
proposed here, and `report` commits them when the run's writes have committed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from stqbo_store import extracts, staging
from stqbo_store import mapping as mapping_db
from stqbo_sync import watermarks
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.types import Mode, RunContext

log = logging.getLogger(__name__)

ALL_CUSTOMERS = "SELECT * FROM Customer WHERE Active IN (true, false)"


def extract_synchroteam(ctx: RunContext, st: SynchroteamApi, now: datetime | None = None) -> dict[str, Any]:
    """Stage customers (changed or all) and invoices changed since the watermark, plus the customers of those
    invoices that are not linked yet (so `load_changes` creates them before `push_invoices` needs them)."""
    now = now or watermarks.utcnow()
    wm = extracts.get_watermark(ctx, "st", "customer")
    full = watermarks.full_read_due(ctx, "st", wm)
    since = None if full else watermarks.st_since(wm)
    customers = {int(c["id"]): c for c in st.list_customers(changed_since=since, active=None)}
    inv_wm = extracts.get_watermark(ctx, "st", "invoice")
    inv_full = watermarks.full_read_due(ctx, "st", inv_wm, "invoice")
    inv_since = None if inv_full else watermarks.st_since(inv_wm)
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
        extracts.record_extract(ctx, "st", "invoice", inv_full, len(invoices), now.isoformat())
    log.info("Synchroteam: staged %d customers (%s read) and %d invoices", len(customers),
             "full" if full else f"changed since {since:%Y-%m-%d %H:%M:%S}", len(invoices))  # type: ignore[str-format]
    return {"customers": len(customers), "invoices": len(invoices), "full_read": full}


def extract_quickbooks(ctx: RunContext, qbo: QuickBooksApi) -> dict[str, Any]:
    """Stage QuickBooks customers (CDC since the watermark, or all) and every vendor and employee name."""
    wm = extracts.get_watermark(ctx, "qbo", "customer")
    full = watermarks.full_read_due(ctx, "qbo", wm)
    if not full and wm is not None and watermarks.cdc_too_old(wm):
        full = True  # CDC looks back at most 30 days
    if full:
        started = watermarks.utcnow()
        customers = {str(c["Id"]): c for c in qbo.query(ALL_CUSTOMERS)}
        next_wm = watermarks.after_full_qbo_read(started)
    else:
        assert wm is not None   # no watermark means a full read
        result = qbo.cdc(["Customer"], watermarks.qbo_since(wm))
        customers = {str(c["Id"]): c for c in result.objects.get("Customer", []) if c.get("status") != "Deleted"}
        next_wm = watermarks.after_cdc(result.time)
    others = [(entity, str(o["Id"]), o.get("DisplayName") or "")
              for entity in ("Vendor", "Employee")
              for o in qbo.query(f"SELECT * FROM {entity} WHERE Active IN (true, false)")]
    staging.replace(ctx, "qbo_customer", customers.items())
    staging.replace_other_names(ctx, others)
    extracts.record_extract(ctx, "qbo", "customer", full, len(customers), next_wm)
    log.info("QuickBooks: staged %d customers (%s read), %d vendor/employee names", len(customers),
             "full" if full else "CDC", len(others))
    return {"customers": len(customers), "other_names": len(others), "full_read": full}
