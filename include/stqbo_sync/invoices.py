"""push_invoices: every eligible Synchroteam invoice reaches QuickBooks once and only once.

For each invoice staged by `extract_synchroteam` (sync mode only):

1. Drafts (no number yet) are skipped until numbered; an invoice whose customer is not linked to a QuickBooks
   customer (its create failed in `load_changes`) is an error for this run and is read again next run.
2. The QuickBooks body is built (`invoice_payload`; items via `invoice_items`, tax and numbering via
   `invoice_company`) and fingerprinted. The ledger (`ledger.invoice`) says whether this exact version is already
   in QuickBooks: then nothing is written, which is why a second run writes nothing.
3. New invoices: the intended write (version, request id, attempts + 1) is committed to the ledger *before* the
   request; then QuickBooks is searched for an invoice of that customer whose PrivateNote carries the marker
   ``Synchroteam invoice <id>``: found = adopted (a create whose reply was lost), else created, in batches of 30.
   The ``requestid`` is derived from (tenant, invoice, version), so any retry of the same write reuses it.
4. Invoices already in QuickBooks and changed since: re-read; left alone and reported when QuickBooks holds a
   payment, when it was voided or deleted there by a person; otherwise a sparse update with the current SyncToken
   (re-read and retried once on a stale SyncToken).
5. After each write QuickBooks' ``TotalAmt`` is compared with Synchroteam's total; more than a cent apart is an
   error of the run (the invoice stays written; the report names both totals).

In ``dry_run`` the same decisions are computed and reported as ``planned``; nothing is written to QuickBooks and the
ledger and item links are not touched.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stqbo_api.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    QuotaExhaustedError,
    RetriableApiError,
    StaleObjectError,
)
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import escape_query_value
from stqbo_store import Scope, audit, staging
from stqbo_store import ledger as ledger_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import invoice_company, request_ids
from stqbo_sync import invoice_payload as payload
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.invoice_items import DRY_RUN_ITEM, ItemResolver
from stqbo_sync.invoice_payload import PayloadError
from stqbo_sync.types import Mode, RunContext

log = logging.getLogger(__name__)
TASK = "push_invoices"
FATAL = (AuthError, QuotaExhaustedError, RetriableApiError)
BATCH_SIZE = 30
HELD = ("paid_in_qbo", "deleted_in_qbo", "voided_in_qbo")
ALREADY = "already up to date in QuickBooks (an earlier attempt's reply was lost)"


def push(ctx: RunContext, qbo: QuickBooksApi, st: SynchroteamApi, options: QuickBooksOptions) -> dict[str, Any]:
    audit.clear_errors(ctx, TASK)
    ledger_db.clear_run(ctx)
    ctx.conn.commit()
    if ctx.mode != Mode.SYNC:
        log.info("mode %s: invoices are pushed in sync mode only; nothing to do", ctx.mode)
        ledger_db.add_note(ctx, f"{ctx.mode} mode moves customers only: invoices are pushed by sync runs")
        ctx.conn.commit()
        return {"mode": str(ctx.mode), "note": "invoices are pushed in sync mode only"}
    staged = staging.rows(ctx, "st_invoice")
    if not staged:
        log.info("no Synchroteam invoice changed since the last run")
        return {"invoices": 0}
    pusher = Pusher(ctx, qbo, st, options)
    counts = pusher.run([(int(k), v) for k, v in staged])
    log.info("invoices: %s", dict(counts))
    return dict(counts)


def summary(s: Scope) -> dict[str, Any]:
    """This run's invoices for the report: counts by status, one row per invoice, and run notes."""
    rows = ledger_db.run_rows(s)
    counts = Counter(r["status"] for r in rows)
    table = [[r["st_number"] or f"(id {r['st_id']})", r["qbo_docnumber"] or "",
              _fmt(r["total"]), r["action"], r["status"], r["note"]] for r in rows]
    return {"counts": dict(counts), "rows": table, "notes": ledger_db.notes(s)}


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


@dataclass
class Work:
    """One invoice to write: what Synchroteam says, the body for QuickBooks and its ledger row."""

    st_id: int
    invoice: dict[str, Any]
    customer_id: str
    body: dict[str, Any]
    version: str
    ledger: dict[str, Any] | None
    domain: str = ""

    @property
    def number(self) -> str | None:
        return payload.st_number(self.invoice)

    @property
    def total(self) -> Decimal:
        return payload.money(self.invoice.get("total"))

    @property
    def failures(self) -> int:
        return int((self.ledger or {}).get("failures") or 0)

    def marked(self) -> dict[str, Any]:
        return payload.with_marker(self.body, self.invoice, self.version, self.domain)


@dataclass
class Pusher:
    ctx: RunContext
    qbo: QuickBooksApi
    st: SynchroteamApi
    options: QuickBooksOptions
    counts: Counter[str] = field(default_factory=Counter)
    _found: dict[str, dict[int, list[dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tenant_key = request_ids.tenant_key(self.st.domain, self.qbo.realm_id, self.ctx.tenant_id)

    # ------------------------------------------------------------------------------------------- driver

    def run(self, staged: list[tuple[int, dict[str, Any]]]) -> Counter[str]:
        company = invoice_company.load(self.qbo, self.options)
        self.settings = company.settings(self.options.use_synchroteam_invoice_numbers)
        self.items = ItemResolver(self.ctx, self.qbo, self.st,
                                  self.tenant_key, company.us, self.options, self.ctx.dry_run)
        creates: list[Work] = []
        updates: list[Work] = []
        for st_id, invoice in sorted(staged):
            work = self._guarded(st_id, invoice, lambda i=invoice, s=st_id: self.prepare(s, i))
            if work is not None:
                (updates if work.ledger and work.ledger.get("qbo_id") else creates).append(work)
        for start in range(0, len(updates), BATCH_SIZE):
            self.update_chunk(updates[start:start + BATCH_SIZE])
        for start in range(0, len(creates), BATCH_SIZE):
            self.create_chunk(creates[start:start + BATCH_SIZE])
        self._run_notes(company)
        self.ctx.conn.commit()
        return self.counts

    def _run_notes(self, company: invoice_company.Company) -> None:
        if self.counts["pushed"] + self.counts["updated"] + self.counts["planned"]:
            for note in ([self.settings.numbering.note] if self.settings.numbering.note else []) + company.notes():
                ledger_db.add_note(self.ctx, note)
        if self.counts["unchanged"]:
            ledger_db.add_note(self.ctx,
                                    f"{self.counts['unchanged']} invoice(s) read again are in QuickBooks as they are: "
                                    "nothing written")
        if self.items.created:
            ledger_db.add_note(self.ctx,
                                    "QuickBooks items created for parts: " + ", ".join(sorted(self.items.created)))
        if self.items.planned:
            ledger_db.add_note(self.ctx,
                                    "QuickBooks items that would be created: " + ", ".join(sorted(self.items.planned.values())))

    def _guarded(self, st_id: int, invoice: dict[str, Any], step: Any) -> Any:
        """Run one invoice's step; a per-record failure is recorded and the loop goes on, fatal ones propagate."""
        try:
            return step()
        except FATAL:
            self.ctx.conn.rollback()
            raise
        except PayloadError as err:
            self.fail(st_id, invoice, err.code, str(err), "connector", err.field)
        except ApiError as err:
            self._forget_refused_items(err)
            self.fail(st_id, invoice, err.code, err.message, err.api, err.element)
        except Exception as err:  # a bug or bad data in one invoice must not stop the others
            log.exception("invoice %s failed", st_id)
            self.fail(st_id, invoice, "internal", f"{type(err).__name__}: {err}", "connector", None)
        return None

    # ------------------------------------------------------------------------------------------- prepare

    def prepare(self, st_id: int, invoice: dict[str, Any]) -> Work | None:
        """Decide what to do with one invoice; rows for skips and unchanged invoices are written here."""
        number = payload.st_number(invoice)
        reason = payload.skip_reason(invoice)
        if reason:
            self.row(st_id, invoice, "skip", "skipped", reason)
            return None
        ledger = ledger_db.get(self.ctx, st_id)
        customer = invoice.get("customer") or {}
        customer_id = mapping_db.link_for_st(self.ctx, int(customer.get("id") or 0))
        if customer_id is None and not self.ctx.dry_run:
            raise PayloadError(f"its customer '{customer.get('name')}' (Synchroteam {customer.get('id')}) is not in "
                               "QuickBooks yet (see this run's customer errors); the invoice is retried next run",
                               code="customer_not_synced", field="customer")
        body = payload.build_invoice(invoice, customer_id or "0", self.items.item_for, self.settings)
        version = payload.fingerprint(body)
        if ledger and ledger.get("qbo_id") and ledger.get("version") == version and ledger["state"] == "done":
            self.counts["unchanged"] += 1
            return None
        if ledger and ledger["state"] in HELD and ledger.get("pending_version") == version:
            self.counts["held"] += 1        # already reported for this version; a person has to act
            return None
        if ledger and ledger["state"] in ("deleted_in_qbo", "voided_in_qbo"):
            if not self.ctx.dry_run:
                ledger_db.set_state(self.ctx, st_id, ledger["state"],
                                         ledger["last_error"] or "", version)
            self.row(st_id, invoice, "update", "skipped", ledger["last_error"] or ledger["state"], ledger)
            return None
        if self.ctx.dry_run:
            action = "update" if ledger and ledger.get("qbo_id") else "create"
            note = "" if customer_id else f"customer '{customer.get('name')}' is linked or created first"
            if DRY_RUN_ITEM in {str(ln.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("value"))
                                for ln in body["Line"]}:
                note = (note + "; " if note else "") + "new QuickBooks items are created first"
            self.row(st_id, invoice, action, "planned", note, ledger)
            return None
        log.debug("invoice %s (#%s): version %s", st_id, number, version)
        return Work(st_id, invoice, customer_id or "0", body, version, ledger, self.st.domain)

    # ------------------------------------------------------------------------------------------- create

    def create_chunk(self, works: list[Work]) -> None:
        """Record, look, then create what is really missing (one batch request for up to 30 invoices)."""
        for w in works:
            ledger_db.start_write(self.ctx, w.st_id, w.number, w.version,
                                       self._rid(w, "c"), w.customer_id)
        self.ctx.conn.commit()
        self._prefetch([w.customer_id for w in works])
        missing: list[Work] = []
        for w in works:
            found = self._guarded(w.st_id, w.invoice, lambda w=w: self.look_before_create(w))
            if found is False:
                missing.append(w)
        if len(missing) == 1:
            w = missing[0]
            self._guarded(w.st_id, w.invoice, lambda: self.done(w, self.qbo.create("Invoice", w.marked(),
                                                                                     self._rid(w, "c")), "create"))
        elif missing:
            self._batch_create(missing)

    def look_before_create(self, w: Work) -> bool:
        """True when the invoice is already in QuickBooks (adopted, and updated if it is an older version)."""
        hits = self._invoices_of(w.customer_id).get(w.st_id, [])
        if not hits:
            return False
        hits.sort(key=lambda o: int(o["Id"]) if str(o["Id"]).isdigit() else 0)
        found = hits[0]
        if len(hits) > 1:
            audit.record_error(self.ctx, TASK, "quickbooks", "invoice", w.st_id,
                               f"invoice #{w.number}: {len(hits)} QuickBooks invoices carry its marker (Ids "
                               f"{', '.join(str(h['Id']) for h in hits)}); the first is kept, check the others",
                               code="duplicate_marker")
        log.info("invoice %s (#%s) is already in QuickBooks as %s: adopted", w.st_id, w.number, found["Id"])
        if payload.marker_version(found.get("PrivateNote")) == w.version:
            self.done(w, found, "adopt", note="already in QuickBooks (an earlier reply was lost): adopted")
        else:
            self.update(w, current=found, adopted=True)
        return True

    def _invoices_of(self, customer_id: str) -> dict[int, list[dict[str, Any]]]:
        """The customer's QuickBooks invoices that carry a Synchroteam marker, by Synchroteam id (once per run)."""
        if customer_id not in self._found:
            self._found[customer_id] = {}
            self._index(self.qbo.query(f"SELECT * FROM Invoice WHERE CustomerRef = '{escape_query_value(customer_id)}'"))
        return self._found[customer_id]

    def _prefetch(self, customer_ids: list[str]) -> None:
        """One query for the invoices of all the chunk's customers (``CustomerRef IN``, UNCONFIRMED on the real
        API: if QuickBooks refuses it, `_invoices_of` asks customer by customer)."""
        todo = sorted({c for c in customer_ids if c not in self._found})
        if len(todo) < 2:
            return
        literal = ", ".join(f"'{escape_query_value(c)}'" for c in todo)
        try:
            rows = list(self.qbo.query(f"SELECT * FROM Invoice WHERE CustomerRef IN ({literal})"))
        except FATAL:
            raise
        except ApiError as err:
            log.info("CustomerRef IN refused (%s); looking customer by customer", err.code)
            return
        for c in todo:
            self._found[c] = {}
        self._index(rows)

    def _index(self, rows: Any) -> None:
        for obj in rows:
            st_id = payload.marker_st_id(obj.get("PrivateNote"), self.st.domain)
            customer = str((obj.get("CustomerRef") or {}).get("value"))
            if st_id is not None and customer in self._found:
                self._found[customer].setdefault(st_id, []).append(dict(obj))

    def _batch_create(self, works: list[Work]) -> None:
        items = [{"bId": f"b{i}", "operation": "create", "Invoice": w.marked()} for i, w in enumerate(works)]
        prefix = request_ids.batch_prefix(self.tenant_key, [(w.st_id, f"{w.version}.{w.failures}") for w in works])
        ledger_db.set_request_id(self.ctx, [w.st_id for w in works], f"{prefix}-0")
        self.ctx.conn.commit()
        results = self.qbo.batch(items, request_id_prefix=prefix)
        fatal: BaseException | None = None
        for i, w in enumerate(works):   # successes first: a fatal item must not hide the others' results
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                self._guarded(w.st_id, w.invoice, lambda w=w, obj=result.obj: self.done(w, obj, "create"))
        for i, w in enumerate(works):
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                continue
            err = (result.error if result is not None else None) or RetriableApiError(
                "QuickBooks returned no answer for this invoice", api="quickbooks")
            if isinstance(err, FATAL):
                fatal = fatal or err    # the task fails and is retried; look-before-create covers these
                continue
            self._guarded(w.st_id, w.invoice, lambda e=err: _raise(e))
        if fatal is not None:
            raise fatal

    # ------------------------------------------------------------------------------------------- update

    def update_chunk(self, works: list[Work]) -> None:
        """Record, read the current invoices in one query, then send the sparse updates in one batch request."""
        for w in works:
            ledger_db.start_write(self.ctx, w.st_id, w.number, w.version,
                                       self._rid(w, "u"), w.customer_id)
        self.ctx.conn.commit()
        ids = ", ".join(f"'{escape_query_value(str((w.ledger or {})['qbo_id']))}'" for w in works)
        try:
            current = {str(o["Id"]): o for o in self.qbo.query(f"SELECT * FROM Invoice WHERE Id IN ({ids})")}
        except FATAL:
            raise
        except ApiError as err:   # a company that refuses `Id IN`: read and update one by one
            log.info("Invoice Id IN refused (%s); updating one by one", err.code)
            for w in works:
                self._guarded(w.st_id, w.invoice, lambda w=w: self.update(w, prepared=True))
            return
        ready: list[tuple[Work, dict[str, Any]]] = []
        for w in works:
            obj = current.get(str((w.ledger or {})["qbo_id"]))
            if obj is None or self._held(w, obj):
                self._guarded(w.st_id, w.invoice, lambda w=w: self.update(w, prepared=True))
            elif payload.marker_version(obj.get("PrivateNote")) == w.version:
                self._guarded(w.st_id, w.invoice, lambda w=w, o=obj: self.done(w, o, "update", note=ALREADY))
            else:
                ready.append((w, obj))
        if len(ready) == 1:
            w, obj = ready[0]
            self._guarded(w.st_id, w.invoice, lambda: self.update(w, current=obj, prepared=True))
        elif ready:
            self._batch_update(ready)

    def _held(self, w: Work, obj: dict[str, Any]) -> bool:
        return payload.voided(obj) or payload.payment_held(obj)

    def _batch_update(self, ready: list[tuple[Work, dict[str, Any]]]) -> None:
        items = [{"bId": f"b{i}", "operation": "update",
                  "Invoice": {**w.marked(), "Id": str(obj["Id"]), "SyncToken": str(obj["SyncToken"]), "sparse": True}}
                 for i, (w, obj) in enumerate(ready)]
        prefix = request_ids.batch_prefix(
            self.tenant_key, [(w.st_id, f"{w.version}:{obj['SyncToken']}.{w.failures}") for w, obj in ready])
        ledger_db.set_request_id(self.ctx, [w.st_id for w, _ in ready], f"{prefix}-0")
        self.ctx.conn.commit()
        results = self.qbo.batch(items, request_id_prefix=prefix)
        fatal: BaseException | None = None
        for i, (w, _obj) in enumerate(ready):
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                self._guarded(w.st_id, w.invoice, lambda w=w, o=result.obj: self.done(w, o, "update"))
                continue
            err = (result.error if result is not None else None) or RetriableApiError(
                "QuickBooks returned no answer for this invoice", api="quickbooks")
            if isinstance(err, StaleObjectError):   # edited meanwhile: re-read, check again, retry on its own
                self._guarded(w.st_id, w.invoice, lambda w=w: self.update(w, prepared=True))
            elif isinstance(err, FATAL):
                fatal = fatal or err
            else:
                self._guarded(w.st_id, w.invoice, lambda e=err: _raise(e))
        if fatal is not None:
            raise fatal

    def update(self, w: Work, current: dict[str, Any] | None = None, adopted: bool = False,
               prepared: bool = False) -> None:
        """One sparse update (adopted invoices, stale retries, single updates); ``prepared``: ledger already set."""
        qbo_id = str(current["Id"]) if current else str((w.ledger or {})["qbo_id"])
        if not adopted and not prepared:
            ledger_db.start_write(self.ctx, w.st_id, w.number, w.version,
                                       self._rid(w, "u"), w.customer_id)
            self.ctx.conn.commit()
        for attempt in range(2):
            if current is None:
                current = self._current(qbo_id)
                if current is None:
                    return self.hold(w, qbo_id, "deleted_in_qbo",
                                     "deleted in QuickBooks by a person: not re-created (delete the ledger row to push "
                                     "it again)")
            if payload.voided(current):
                return self.hold(w, qbo_id, "voided_in_qbo", "voided in QuickBooks: not rewritten", current)
            if payload.payment_held(current):
                return self.hold(w, qbo_id, "paid_in_qbo",
                                 f"QuickBooks holds a payment against it: not rewritten; Synchroteam now says "
                                 f"{w.total:.2f}, QuickBooks {payload.money(current.get('TotalAmt')):.2f}", current)
            if payload.marker_version(current.get("PrivateNote")) == w.version:
                return self.done(w, current, "update", note=ALREADY)   # an earlier attempt's update did land
            body = {**w.marked(), "Id": qbo_id, "SyncToken": str(current["SyncToken"])}
            rid = self._rid(w, f"u{current['SyncToken']}")
            ledger_db.set_request_id(self.ctx, [w.st_id], rid)
            self.ctx.conn.commit()
            try:
                obj = self.qbo.update("Invoice", body, rid)
            except StaleObjectError:
                if attempt:
                    raise
                current = None   # someone edited it meanwhile: re-read, check again, retry once
                continue
            note = "already in QuickBooks (an earlier reply was lost): adopted and updated" if adopted else ""
            return self.done(w, obj, "update", note=note)
        return None

    def _current(self, qbo_id: str) -> dict[str, Any] | None:
        try:
            obj = self.qbo.get("Invoice", qbo_id)
        except NotFoundError:
            return None
        return None if str(obj.get("status", "")).lower() == "deleted" else obj

    def hold(self, w: Work, qbo_id: str, state: str, note: str, current: dict[str, Any] | None = None) -> None:
        """A QuickBooks-side state a person must look at: report, do not write."""
        ledger_db.set_state(self.ctx, w.st_id, state, note, w.version)
        docnumber = (current or {}).get("DocNumber") or (w.ledger or {}).get("qbo_docnumber")
        ledger_db.put_run_row(self.ctx, w.st_id, st_number=w.number,
                                   qbo_id=qbo_id, qbo_docnumber=docnumber, total=w.total,
                                   qbo_total=None, action="update", status="skipped", note=note)
        self.ctx.conn.commit()
        self.counts["skipped"] += 1
        log.warning("invoice %s (#%s): %s", w.st_id, w.number, note)

    # ------------------------------------------------------------------------------------------- outcomes

    def done(self, w: Work, obj: dict[str, Any], action: str, note: str = "") -> None:
        """The invoice stands in QuickBooks as ``obj``: ledger, total check and report row, committed together."""
        ledger_db.finish(self.ctx, w.st_id, obj, w.version, w.total,
                              w.invoice.get("dateModified"))
        qbo_total = payload.money(obj.get("TotalAmt", 0))
        if payload.totals_differ(w.total, qbo_total):
            gap = payload.total_gap(w.total, qbo_total)
            message = (f"invoice #{w.number}: QuickBooks total {qbo_total:.2f} differs from Synchroteam total "
                       f"{w.total:.2f} by {gap:.2f} (QuickBooks invoice {obj.get('DocNumber') or obj['Id']})")
            audit.record_error(self.ctx, TASK, "quickbooks", "invoice", w.st_id,
                               message, code="total_mismatch", field="TotalAmt")
            note = (note + "; " if note else "") + f"total differs: QuickBooks {qbo_total:.2f}"
        status = "updated" if action == "update" else "pushed"
        ledger_db.put_run_row(self.ctx, w.st_id, st_number=w.number,
                                   qbo_id=str(obj["Id"]), qbo_docnumber=obj.get("DocNumber"), total=w.total,
                                   qbo_total=qbo_total, action=action, status=status, note=note)
        self.ctx.conn.commit()
        self.counts[status] += 1

    def row(self, st_id: int, invoice: dict[str, Any], action: str, status: str, note: str,
            ledger: dict[str, Any] | None = None) -> None:
        ledger_db.put_run_row(self.ctx, st_id,
                                   st_number=payload.st_number(invoice),
                                   qbo_id=(ledger or {}).get("qbo_id"), qbo_docnumber=(ledger or {}).get("qbo_docnumber"),
                                   total=payload.money(invoice.get("total")), qbo_total=None, action=action,
                                   status=status, note=note)
        self.ctx.conn.commit()
        self.counts[status] += 1

    def fail(self, st_id: int, invoice: dict[str, Any], code: str | None, message: str, side: str,
             field_name: str | None) -> None:
        self.ctx.conn.rollback()
        number = payload.st_number(invoice)
        text = f"invoice #{number or '-'}: {message}"
        audit.record_error(self.ctx, TASK, side, "invoice", st_id, text, code=code,
                           field=field_name)
        if not self.ctx.dry_run:
            ledger_db.fail(self.ctx, st_id, number, f"[{code}] {message}")
        ledger = ledger_db.get(self.ctx, st_id)
        self.row(st_id, invoice, "create" if not (ledger or {}).get("qbo_id") else "update", "failed",
                 f"[{code}] {message}", ledger)

    def _forget_refused_items(self, err: ApiError) -> None:
        """An ItemRef QuickBooks refuses (deleted or inactive item): unlink it so the next run resolves it again."""
        if err.code in ("2500", "610") and "ItemRef" in f"{err.element} {err.detail} {err.message}":
            self.ctx.conn.rollback()
            mapping_db.drop_item_links(self.ctx, list(self.items.links.values()))
            self.ctx.conn.commit()
            self.items.links.clear()

    def _rid(self, w: Work, op: str) -> str:
        """Same (invoice, version, refusals so far, op) -> same id: a write whose answer was lost is replayed by
        QuickBooks, while a write QuickBooks refused gets a fresh id once the cause may have been fixed."""
        return request_ids.invoice_write(self.tenant_key, w.st_id, w.version, f"{op}.{w.failures}")


def _raise(err: BaseException) -> None:
    raise err
