"""Where each side's change read starts, when a full read is due, and when a watermark may advance.

- Synchroteam: ``changedSince`` on customers and invoices; responses have minute precision, so the window overlaps
  the watermark by `ST_OVERLAP` and records are de-duplicated by id.
- QuickBooks: CDC from the watermark less `QBO_OVERLAP`; CDC looks back at most 30 days (`CDC_MAX_AGE`), beyond
  that a full read. The response's ``time`` becomes the next watermark.
- A full read runs for upload/download, on the first run, and in sync mode once a day (`FULL_RECONCILE_EVERY`) to
  see what change feeds cannot show (deletions in Synchroteam, missed events): customers on both sides, and
  Synchroteam's invoices too, so an invoice change a change read missed reaches QuickBooks within a day.
- A run only proposes watermarks (``sync.run_extract``); `commit` advances them when the run's writes committed,
  holding back the entities whose records failed, so their window is read again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stqbo_store import extracts
from stqbo_sync.types import Mode, RunContext

ST_OVERLAP = timedelta(minutes=2)
QBO_OVERLAP = timedelta(minutes=1)
CDC_MAX_AGE = timedelta(days=29, hours=12)
FULL_RECONCILE_EVERY = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(UTC)


def full_read_due(ctx: RunContext, side: str, watermark: str | None, entity: str = "customer") -> bool:
    if ctx.mode in (Mode.UPLOAD, Mode.DOWNLOAD) or watermark is None:
        return True
    last = extracts.last_full_read(ctx, side, entity)
    return last is None or utcnow() - last >= FULL_RECONCILE_EVERY


def st_since(watermark: str | None) -> datetime | None:
    """Where a Synchroteam change read starts (None: read everything)."""
    return None if watermark is None else datetime.fromisoformat(watermark) - ST_OVERLAP


def cdc_too_old(watermark: str) -> bool:
    return utcnow() - datetime.fromisoformat(watermark) > CDC_MAX_AGE


def qbo_since(watermark: str) -> datetime:
    return datetime.fromisoformat(watermark) - QBO_OVERLAP


def after_full_qbo_read(started: datetime) -> str:
    """The next QuickBooks watermark after a full read that began at ``started``."""
    return (started - QBO_OVERLAP).isoformat()


def after_cdc(response_time: str) -> str:
    return datetime.fromisoformat(response_time).astimezone(UTC).isoformat()


def commit(ctx: RunContext, held: set[str]) -> None:
    """Advance the watermarks this run read over, except for the ``held`` entities (read again next run)."""
    extracts.hold_watermarks(ctx, held)
    extracts.commit_watermarks(ctx)
    extracts.mark_completed(ctx)
