"""push_invoices, second half: execute the stored invoice plan, so every eligible Synchroteam invoice reaches
QuickBooks once and only once.

Before planning, `read_inputs` reads what the pure planner (`plan_invoices`) needs: the company's settings
(`invoice_company`), each invoice's ledger row and customer link, and its items (`invoice_items`: found, linked or
created in QuickBooks, which is I/O, line by line in the order the body needs them). After planning, the plan rows
stored in ``sync.invoice_plan`` are executed by `Loader`:

1. Rows with nothing to write are reported: skips, holds (voided or deleted in QuickBooks, changed since: the new
   version is remembered so later runs stay quiet), failures (customer not in QuickBooks, payload, items), and
   unchanged or already-held invoices (counted only).
2. Updates first, in chunks of 30: the intended write (version, request id, attempts + 1) is committed to the ledger
   *before* the request; the current invoices are read in one query; one left alone and reported when QuickBooks
   holds a payment or it was voided or deleted there by a person; one whose marker already carries the version is
   done (an earlier reply was lost); the others go out as sparse updates with their SyncToken in one batch request
   (one by one when the company refuses ``Id IN``; a stale SyncToken is re-read and retried once).
3. Then creates, in chunks of 30: ledger first, then QuickBooks is searched for invoices of those customers whose
   PrivateNote carries the marker ``Synchroteam invoice <id>``: found = adopted (a create whose reply was lost; an
   older version is updated), else created, in one batch request. Request ids derive from (tenant, invoice, version,
   refusals so far), so any retry of the same write reuses its id.
4. After each write QuickBooks' ``TotalAmt`` is compared with Synchroteam's total; more than a cent apart is an
   error of the run (the invoice stays written; the report names both totals).

In a dry run the plan is only reported (`show_plan`): creates and updates are rows ``planned``; nothing is written
to QuickBooks, and the ledger and item links are not touched.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

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
from stqbo_store import Scope, audit, invoice_plan
from stqbo_store import ledger as ledger_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import invoice_company, request_ids
from stqbo_sync import invoice_payload as payload
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.invoice_items import ItemResolver
from stqbo_sync.invoice_payload import PayloadError, Settings
from stqbo_sync.plan_invoices import Failure, InvoiceAction, InvoicePlanRow, StagedInvoice
from stqbo_sync.types import RunContext

log = logging.getLogger(__name__)
TASK = "push_invoices"
FATAL = (AuthError, QuotaExhaustedError, RetriableApiError)
BATCH_SIZE = 30
ALREADY = "already up to date in QuickBooks (an earlier attempt's reply was lost)"
T = TypeVar("T")


def begin(ctx: RunContext) -> None:
    """Start the task's report afresh (rows of invoices this run already wrote are kept); committed."""
    audit.clear_errors(ctx, TASK)
    ledger_db.clear_run(ctx)
    ctx.conn.commit()


def add_note(ctx: RunContext, note: str) -> None:
    ledger_db.add_note(ctx, note)
    ctx.conn.commit()


def tenant_key(ctx: RunContext, qbo: QuickBooksApi, st: SynchroteamApi) -> str:
    """Part of every request id: the same invoice of another account or company is another write."""
    return request_ids.tenant_key(st.domain, qbo.realm_id, ctx.tenant_id)


# ----------------------------------------------------------------------------------------------- before planning


@dataclass
class Inputs:
    """What the planner needs besides the mode, read from QuickBooks and the state DB, and what the loader needs
    from that reading afterwards (the company's notes, the items created or to create)."""

    company: invoice_company.Company
    settings: Settings
    items: ItemResolver
    invoices: list[StagedInvoice]
    eligible: frozenset[str]


def read_inputs(ctx: RunContext, qbo: QuickBooksApi, st: SynchroteamApi, options: QuickBooksOptions,
                staged: Sequence[tuple[Any, dict[str, Any]]]) -> Inputs:
    """Company settings once, then per invoice (in Synchroteam id order): ledger row, customer link and items."""
    company = invoice_company.load(qbo, options)
    settings = company.settings(options.use_synchroteam_invoice_numbers)
    items = ItemResolver(ctx, qbo, st, tenant_key(ctx, qbo, st), company.us, options,
                         ctx.dry_run)
    eligible = payload.eligible_keys(options.invoice_statuses)
    invoices = [_staged(ctx, items, settings, eligible, int(st_id), invoice)
                for st_id, invoice in sorted(staged, key=lambda s: int(s[0]))]
    return Inputs(company, settings, items, invoices, eligible)


def _staged(ctx: RunContext, items: ItemResolver, settings: Settings, eligible: frozenset[str], st_id: int,
            invoice: dict[str, Any]) -> StagedInvoice:
    if payload.skip_reason(invoice, eligible):    # the planner skips it: only its ledger row (reported yet?)
        return StagedInvoice(st_id, invoice, ledger_db.get(ctx, st_id) if payload.unknown_status(invoice, eligible)
                             else None)
    customer = invoice.get("customer") or {}
    customer_id = mapping_db.link_for_st(ctx, int(customer.get("id") or 0))
    ledger = ledger_db.get(ctx, st_id)
    if customer_id is None and not ctx.dry_run:   # the planner fails it: its items are not resolved
        return StagedInvoice(st_id, invoice, ledger, customer_id)
    refs, error = items.refs_for(invoice, customer_id, settings)
    failure = None if error is None else _item_failure(ctx, items, st_id, error)
    return StagedInvoice(st_id, invoice, ledger, customer_id, refs, failure)


def _item_failure(ctx: RunContext, items: ItemResolver, st_id: int, err: Exception) -> Failure:
    """An item that cannot be resolved fails its invoice; errors that fail the task propagate."""
    if isinstance(err, FATAL):
        ctx.conn.rollback()
        raise err
    if isinstance(err, PayloadError):
        return Failure(err.code, str(err), "connector", err.field)
    if isinstance(err, ApiError):
        forget_refused_items(ctx, items, err)
        return Failure(err.code, err.message, err.api, err.element)
    log.error("invoice %s failed", st_id, exc_info=err)
    return Failure("internal", f"{type(err).__name__}: {err}")


def forget_refused_items(ctx: RunContext, items: ItemResolver, err: ApiError) -> None:
    """An ItemRef QuickBooks refuses (deleted or inactive item): unlink it so the next run resolves it again."""
    if err.code in ("2500", "610") and "ItemRef" in f"{err.element} {err.detail} {err.message}":
        ctx.conn.rollback()
        mapping_db.drop_item_links(ctx, list(items.links.values()))
        ctx.conn.commit()
        items.links.clear()


# ----------------------------------------------------------------------------------------------- after planning


def load(ctx: RunContext, qbo: QuickBooksApi, st: SynchroteamApi, inputs: Inputs,
         rows: Sequence[InvoicePlanRow]) -> Counter[str]:
    """Execute the stored plan: report what needs no write, then updates, then creates, then the run notes."""
    loader = Loader(ctx, qbo, st.domain, tenant_key(ctx, qbo, st), inputs.items)
    loader.run(rows)
    add_run_notes(ctx, loader.counts, inputs)
    ctx.conn.commit()
    return loader.counts


def show_plan(ctx: RunContext, inputs: Inputs, rows: Sequence[InvoicePlanRow]) -> Counter[str]:
    """A dry run: the plan as report rows (creates and updates ``planned``); nothing written anywhere else."""
    shower = Reporter(ctx)
    for row in rows:
        shower.report(row)
    add_run_notes(ctx, shower.counts, inputs)
    ctx.conn.commit()
    return shower.counts


def add_run_notes(ctx: RunContext, counts: Counter[str], inputs: Inputs) -> None:
    if counts["pushed"] + counts["updated"] + counts["planned"]:
        numbering = [inputs.settings.numbering.note] if inputs.settings.numbering.note else []
        for note in numbering + inputs.company.notes():
            ledger_db.add_note(ctx, note)
    if counts["unchanged"]:
        ledger_db.add_note(ctx, f"{counts['unchanged']} invoice(s) read again are in QuickBooks as they are: "
                                "nothing written")
    if inputs.items.created:
        ledger_db.add_note(ctx, "QuickBooks items created for parts: " + ", ".join(sorted(inputs.items.created)))
    if inputs.items.planned:
        ledger_db.add_note(ctx, "QuickBooks items that would be created: "
                                + ", ".join(sorted(inputs.items.planned.values())))


def summary(s: Scope) -> dict[str, Any]:
    """This run's invoices for the report: counts by status, one row per invoice, and run notes."""
    rows = ledger_db.run_rows(s)
    counts = Counter(r["status"] for r in rows)
    table = [[r["st_number"] or f"(id {r['st_id']})", r["qbo_docnumber"] or "",
              _fmt(r["total"]), r["action"], r["status"], r["note"]] for r in rows]
    return {"counts": dict(counts), "rows": table, "notes": ledger_db.notes(s)}


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


class Reporter:
    """Plan rows whose outcome is the plan itself: the report row (and, in a real run, the ledger's note)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.counts: Counter[str] = Counter()

    def report(self, row: InvoicePlanRow) -> None:
        if row.action == InvoiceAction.UNCHANGED:
            self.counts["unchanged"] += 1
        elif row.action == InvoiceAction.HELD:
            self.counts["held"] += 1        # already reported for this version; a person has to act
        elif row.action == InvoiceAction.SKIP:
            if row.reported_status is not None and not self.ctx.dry_run:   # named once: later runs stay quiet
                ledger_db.note_status(self.ctx, row.st_id, row.number, row.reported_status)
            self.row(row, "skip", "skipped", row.note)
        elif row.action == InvoiceAction.HOLD:
            if not self.ctx.dry_run:        # remember the version: later runs stay quiet (held)
                ledger_db.set_state(self.ctx, row.st_id, str(row.held_state), row.reason, str(row.version))
                invoice_plan.set_status(self.ctx, row.st_id, "done")
            self.row(row, "update", "skipped", row.note)
        elif row.action == InvoiceAction.FAIL and row.failure is not None:
            self.fail(row, row.failure)
        elif row.writes:    # a dry run's create or update
            self.row(row, str(row.action), "planned", row.note)

    def row(self, row: InvoicePlanRow, action: str, status: str, note: str,
            ledger: dict[str, Any] | None = None) -> None:
        """One report row with the plan's ledger facts (or ``ledger`` as it stands after a failure); committed."""
        facts = ledger if ledger is not None else {"qbo_id": row.qbo_id, "qbo_docnumber": row.qbo_docnumber}
        ledger_db.put_run_row(self.ctx, row.st_id, st_number=row.number, qbo_id=facts.get("qbo_id"),
                              qbo_docnumber=facts.get("qbo_docnumber"), total=row.total, qbo_total=None,
                              action=action, status=status, note=note)
        self.ctx.conn.commit()
        self.counts[status] += 1

    def fail(self, row: InvoicePlanRow, failure: Failure) -> None:
        """The invoice failed this run: error, ledger (real runs) and report row, committed together."""
        self.ctx.conn.rollback()
        audit.record_error(self.ctx, TASK, failure.side, "invoice", row.st_id,
                           f"invoice #{row.number or '-'}: {failure.message}", code=failure.code, field=failure.field)
        if not self.ctx.dry_run:
            ledger_db.fail(self.ctx, row.st_id, row.number, failure.note)
        invoice_plan.set_status(self.ctx, row.st_id, "failed", failure.note)
        ledger = ledger_db.get(self.ctx, row.st_id) or {}
        self.row(row, "create" if not ledger.get("qbo_id") else "update", "failed", failure.note, ledger=ledger)


class Loader(Reporter):
    """Executes a real run's plan rows against QuickBooks (see the module docstring for the order and why)."""

    def __init__(self, ctx: RunContext, qbo: QuickBooksApi, domain: str, tenant_key: str,
                 items: ItemResolver | None = None) -> None:
        super().__init__(ctx)
        self.qbo, self.domain, self.tenant_key, self.items = qbo, domain, tenant_key, items
        self._found: dict[str, dict[int, list[dict[str, Any]]]] = {}   # marked invoices by customer, st_id

    def run(self, rows: Sequence[InvoicePlanRow]) -> Counter[str]:
        creates = [r for r in rows if r.action == InvoiceAction.CREATE]
        updates = [r for r in rows if r.action == InvoiceAction.UPDATE]
        for row in rows:
            if not row.writes:
                self.report(row)
        for start in range(0, len(updates), BATCH_SIZE):
            self.update_chunk(updates[start:start + BATCH_SIZE])
        for start in range(0, len(creates), BATCH_SIZE):
            self.create_chunk(creates[start:start + BATCH_SIZE])
        return self.counts

    def _guarded(self, row: InvoicePlanRow, step: Callable[[], T]) -> T | None:
        """Run one invoice's step; a per-record failure is recorded and the loop goes on, fatal ones propagate."""
        try:
            return step()
        except FATAL:
            self.ctx.conn.rollback()
            raise
        except PayloadError as err:
            self.fail(row, Failure(err.code, str(err), "connector", err.field))
        except ApiError as err:
            if self.items is not None:
                forget_refused_items(self.ctx, self.items, err)
            self.fail(row, Failure(err.code, err.message, err.api, err.element))
        except Exception as err:  # a bug or bad data in one invoice must not stop the others
            log.exception("invoice %s failed", row.st_id)
            self.fail(row, Failure("internal", f"{type(err).__name__}: {err}"))
        return None

    def _marked(self, row: InvoicePlanRow) -> dict[str, Any]:
        return payload.with_marker(row.body or {}, {"id": row.st_id, "num": row.number}, str(row.version),
                                   self.domain)

    def _rid(self, row: InvoicePlanRow, op: str) -> str:
        """Same (invoice, version, refusals so far, op) -> same id: a write whose answer was lost is replayed by
        QuickBooks, while a write QuickBooks refused gets a fresh id once the cause may have been fixed."""
        return request_ids.invoice_write(self.tenant_key, row.st_id, str(row.version), f"{op}.{row.failures}")

    def _start(self, rows: Sequence[InvoicePlanRow], op: str) -> None:
        """The write-ahead ledger: each intended write is committed before its request goes out."""
        for r in rows:
            ledger_db.start_write(self.ctx, r.st_id, r.number, str(r.version), self._rid(r, op), str(r.customer_id))
        self.ctx.conn.commit()

    # ------------------------------------------------------------------------------------------- create

    def create_chunk(self, rows: list[InvoicePlanRow]) -> None:
        """Record, look, then create what is really missing (one batch request for up to 30 invoices)."""
        self._start(rows, "c")
        self._prefetch([str(r.customer_id) for r in rows])
        missing: list[InvoicePlanRow] = []
        for r in rows:
            found = self._guarded(r, partial(self.look_before_create, r))
            if found is False:
                missing.append(r)
        if len(missing) == 1:
            r = missing[0]
            self._guarded(r, lambda: self.done(r, self.qbo.create("Invoice", self._marked(r), self._rid(r, "c")),
                                               "create"))
        elif missing:
            self._batch_create(missing)

    def look_before_create(self, r: InvoicePlanRow) -> bool:
        """True when the invoice is already in QuickBooks (adopted, and updated if it is an older version)."""
        hits = self._invoices_of(str(r.customer_id)).get(r.st_id, [])
        if not hits:
            return False
        hits.sort(key=lambda o: int(o["Id"]) if str(o["Id"]).isdigit() else 0)
        found = hits[0]
        if len(hits) > 1:
            audit.record_error(self.ctx, TASK, "quickbooks", "invoice", r.st_id,
                               f"invoice #{r.number}: {len(hits)} QuickBooks invoices carry its marker (Ids "
                               f"{', '.join(str(h['Id']) for h in hits)}); the first is kept, check the others",
                               code="duplicate_marker")
        log.info("invoice %s (#%s) is already in QuickBooks as %s: adopted", r.st_id, r.number, found["Id"])
        if payload.marker_version(found.get("PrivateNote")) == r.version:
            self.done(r, found, "adopt", note="already in QuickBooks (an earlier reply was lost): adopted")
        else:
            self.update(r, current=found, adopted=True)
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
            st_id = payload.marker_st_id(obj.get("PrivateNote"), self.domain)
            customer = str((obj.get("CustomerRef") or {}).get("value"))
            if st_id is not None and customer in self._found:
                self._found[customer].setdefault(st_id, []).append(dict(obj))

    def _batch_create(self, rows: list[InvoicePlanRow]) -> None:
        items = [{"bId": f"b{i}", "operation": "create", "Invoice": self._marked(r)} for i, r in enumerate(rows)]
        prefix = request_ids.batch_prefix(self.tenant_key, [(r.st_id, f"{r.version}.{r.failures}") for r in rows])
        ledger_db.set_request_id(self.ctx, [r.st_id for r in rows], f"{prefix}-0")
        self.ctx.conn.commit()
        results = self.qbo.batch(items, request_id_prefix=prefix)
        fatal: BaseException | None = None
        for i, r in enumerate(rows):   # successes first: a fatal item must not hide the others' results
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                self._guarded(r, partial(self.done, r, result.obj, "create"))
        for i, r in enumerate(rows):
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                continue
            err = (result.error if result is not None else None) or RetriableApiError(
                "QuickBooks returned no answer for this invoice", api="quickbooks")
            if isinstance(err, FATAL):
                fatal = fatal or err    # the task fails and is retried; look-before-create covers these
                continue
            self._guarded(r, partial(_raise, err))
        if fatal is not None:
            raise fatal

    # ------------------------------------------------------------------------------------------- update

    def update_chunk(self, rows: list[InvoicePlanRow]) -> None:
        """Record, read the current invoices in one query, then send the sparse updates in one batch request."""
        self._start(rows, "u")
        ids = ", ".join(f"'{escape_query_value(str(r.qbo_id))}'" for r in rows)
        try:
            current = {str(o["Id"]): o for o in self.qbo.query(f"SELECT * FROM Invoice WHERE Id IN ({ids})")}
        except FATAL:
            raise
        except ApiError as err:   # a company that refuses `Id IN`: read and update one by one
            log.info("Invoice Id IN refused (%s); updating one by one", err.code)
            for r in rows:
                self._guarded(r, partial(self.update, r, prepared=True))
            return
        ready: list[tuple[InvoicePlanRow, dict[str, Any]]] = []
        for r in rows:
            obj = current.get(str(r.qbo_id))
            if obj is None or payload.voided(obj) or payload.payment_held(obj):
                self._guarded(r, partial(self.update, r, prepared=True))
            elif payload.marker_version(obj.get("PrivateNote")) == r.version:
                self._guarded(r, partial(self.done, r, obj, "update", note=ALREADY))
            else:
                ready.append((r, obj))
        if len(ready) == 1:
            r, obj = ready[0]
            self._guarded(r, lambda: self.update(r, current=obj, prepared=True))
        elif ready:
            self._batch_update(ready)

    def _batch_update(self, ready: list[tuple[InvoicePlanRow, dict[str, Any]]]) -> None:
        items = [{"bId": f"b{i}", "operation": "update",
                  "Invoice": {**self._marked(r), "Id": str(obj["Id"]), "SyncToken": str(obj["SyncToken"]),
                              "sparse": True}}
                 for i, (r, obj) in enumerate(ready)]
        prefix = request_ids.batch_prefix(
            self.tenant_key, [(r.st_id, f"{r.version}:{obj['SyncToken']}.{r.failures}") for r, obj in ready])
        ledger_db.set_request_id(self.ctx, [r.st_id for r, _ in ready], f"{prefix}-0")
        self.ctx.conn.commit()
        results = self.qbo.batch(items, request_id_prefix=prefix)
        fatal: BaseException | None = None
        for i, (r, _obj) in enumerate(ready):
            result = results.get(f"b{i}")
            if result is not None and result.ok and result.obj is not None:
                self._guarded(r, partial(self.done, r, result.obj, "update"))
                continue
            err = (result.error if result is not None else None) or RetriableApiError(
                "QuickBooks returned no answer for this invoice", api="quickbooks")
            if isinstance(err, StaleObjectError):   # edited meanwhile: re-read, check again, retry on its own
                self._guarded(r, partial(self.update, r, prepared=True))
            elif isinstance(err, FATAL):
                fatal = fatal or err
            else:
                self._guarded(r, partial(_raise, err))
        if fatal is not None:
            raise fatal

    def update(self, r: InvoicePlanRow, current: dict[str, Any] | None = None, adopted: bool = False,
               prepared: bool = False) -> None:
        """One sparse update (adopted invoices, stale retries, single updates); ``prepared``: ledger already set."""
        qbo_id = str(current["Id"]) if current else str(r.qbo_id)
        if not adopted and not prepared:
            self._start([r], "u")
        for attempt in range(2):
            if current is None:
                current = self._current(qbo_id)
                if current is None:
                    return self.hold(r, qbo_id, "deleted_in_qbo",
                                     "deleted in QuickBooks by a person: not re-created (delete the ledger row to push "
                                     "it again)")
            if payload.voided(current):
                return self.hold(r, qbo_id, "voided_in_qbo", "voided in QuickBooks: not rewritten", current)
            if payload.payment_held(current):
                return self.hold(r, qbo_id, "paid_in_qbo",
                                 f"QuickBooks holds a payment against it: not rewritten; Synchroteam now says "
                                 f"{self._total(r):.2f}, QuickBooks {payload.money(current.get('TotalAmt')):.2f}",
                                 current)
            if payload.marker_version(current.get("PrivateNote")) == r.version:
                return self.done(r, current, "update", note=ALREADY)   # an earlier attempt's update did land
            body = {**self._marked(r), "Id": qbo_id, "SyncToken": str(current["SyncToken"])}
            rid = self._rid(r, f"u{current['SyncToken']}")
            ledger_db.set_request_id(self.ctx, [r.st_id], rid)
            self.ctx.conn.commit()
            try:
                obj = self.qbo.update("Invoice", body, rid)
            except StaleObjectError:
                if attempt:
                    raise
                current = None   # someone edited it meanwhile: re-read, check again, retry once
                continue
            note = "already in QuickBooks (an earlier reply was lost): adopted and updated" if adopted else ""
            return self.done(r, obj, "update", note=note)
        return None

    def _current(self, qbo_id: str) -> dict[str, Any] | None:
        try:
            obj = self.qbo.get("Invoice", qbo_id)
        except NotFoundError:
            return None
        return None if str(obj.get("status", "")).lower() == "deleted" else obj

    def hold(self, r: InvoicePlanRow, qbo_id: str, state: str, note: str,
             current: dict[str, Any] | None = None) -> None:
        """A QuickBooks-side state a person must look at: report, do not write."""
        ledger_db.set_state(self.ctx, r.st_id, state, note, str(r.version))
        docnumber = (current or {}).get("DocNumber") or r.qbo_docnumber
        ledger_db.put_run_row(self.ctx, r.st_id, st_number=r.number, qbo_id=qbo_id, qbo_docnumber=docnumber,
                              total=self._total(r), qbo_total=None, action="update", status="skipped", note=note)
        invoice_plan.set_status(self.ctx, r.st_id, "done")
        self.ctx.conn.commit()
        self.counts["skipped"] += 1
        log.warning("invoice %s (#%s): %s", r.st_id, r.number, note)

    # ------------------------------------------------------------------------------------------- outcomes

    def done(self, r: InvoicePlanRow, obj: dict[str, Any], action: str, note: str = "") -> None:
        """The invoice stands in QuickBooks as ``obj``: ledger, total check and report row, committed together."""
        total = self._total(r)
        ledger_db.finish(self.ctx, r.st_id, obj, str(r.version), total, r.st_modified)
        qbo_total = payload.money(obj.get("TotalAmt", 0))
        if payload.totals_differ(total, qbo_total):
            gap = payload.total_gap(total, qbo_total)
            message = (f"invoice #{r.number}: QuickBooks total {qbo_total:.2f} differs from Synchroteam total "
                       f"{total:.2f} by {gap:.2f} (QuickBooks invoice {obj.get('DocNumber') or obj['Id']})")
            audit.record_error(self.ctx, TASK, "quickbooks", "invoice", r.st_id, message, code="total_mismatch",
                               field="TotalAmt")
            note = (note + "; " if note else "") + f"total differs: QuickBooks {qbo_total:.2f}"
        status = "updated" if action == "update" else "pushed"
        ledger_db.put_run_row(self.ctx, r.st_id, st_number=r.number, qbo_id=str(obj["Id"]),
                              qbo_docnumber=obj.get("DocNumber"), total=total, qbo_total=qbo_total, action=action,
                              status=status, note=note)
        invoice_plan.set_status(self.ctx, r.st_id, "done")
        self.ctx.conn.commit()
        self.counts[status] += 1

    @staticmethod
    def _total(r: InvoicePlanRow) -> Decimal:
        return r.total if r.total is not None else Decimal("0.00")


def _raise(err: BaseException) -> None:
    raise err
