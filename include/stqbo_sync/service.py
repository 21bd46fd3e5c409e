"""One entry point per DAG task. Each opens the state DB, checks the tenant's run lease, does its step, commits,
and returns a small summary (counts only) for XCom."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from stqbo_api.errors import ConfigurationError, ReauthorizationRequired
from stqbo_api.options import QuickBooksOptions
from stqbo_store import Conn, audit, extracts, invoice_plan, migrate, staging, tenants
from stqbo_store import connect as connect_db
from stqbo_store import mapping as mapping_db
from stqbo_store import plan as plan_db
from stqbo_sync import (
    alerts,
    extract,
    lease,
    load_customers,
    load_invoices,
    plan_customers,
    plan_invoices,
    report,
    review,
    watermarks,
)
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.types import Mode, RunContext

log = logging.getLogger(__name__)
LEASE_WAIT_SECONDS = 60.0


class RunFailed(RuntimeError):
    """Raised by `report` when records failed, so the run shows red and a clear retries just those records."""


@dataclass
class Runtime:
    """What a task needs: where the state lives, the two API clients, and the run's identity and params."""

    dsn: str = field(repr=False)   # may hold a password
    run_id: str
    qbo: QuickBooksApi
    st: SynchroteamApi
    mode: Mode = Mode.SYNC
    dry_run: bool = False
    options: QuickBooksOptions = field(default_factory=QuickBooksOptions)
    scheduled: bool = False

    def __post_init__(self) -> None:
        try:
            self.mode = Mode(self.mode)
        except ValueError:
            raise ValueError(f"mode must be one of {[m.value for m in Mode]}, not {self.mode!r}") from None


@contextmanager
def _context(rt: Runtime, first: bool = False) -> Iterator[RunContext]:
    """One task's unit of work: the state DB (migrated by the run's first tasks), the tenant, and the lease (taken
    by the first tasks, checked by the others). The connection is closed afterwards; commits are the caller's."""
    conn = connect_db(rt.dsn)
    try:
        if first:
            migrate.migrate(conn)
        ctx = _tenant_context(conn, rt)
        if first:
            lease.acquire(ctx, wait_seconds=LEASE_WAIT_SECONDS)
            audit.start_run(ctx, rt.mode, rt.dry_run)
            conn.commit()
        else:
            lease.check(ctx)
        try:
            yield ctx
        except ReauthorizationRequired:
            _note_cause(ctx, alerts.REAUTHORIZE)
            raise
    finally:
        conn.close()


def _note_cause(ctx: RunContext, cause: str) -> None:
    """Remember why the run failed (the alerts tell a person what to do); never hides the original error."""
    try:
        ctx.conn.rollback()
        audit.set_cause(ctx, cause)
        ctx.conn.commit()
    except Exception:   # noqa: BLE001 - the task's own error is what matters here
        log.exception("could not record the run's failure cause %r", cause)


def _tenant_context(conn: Conn, rt: Runtime) -> RunContext:
    tenant_id = tenants.ensure_tenant(conn, rt.st.domain, rt.qbo.realm_id, rt.qbo.environment,
                                      rt.qbo.base_url)
    conn.commit()
    return RunContext(conn, tenant_id, rt.run_id, rt.mode, rt.dry_run)


def scheduled_run_blocked(rt: Runtime) -> str | None:
    """A scheduled run never makes the first writes for a tenant: a person starts with a dry run, then an Upload,
    Download or sync triggered by hand. Returns why the run must be skipped, or None."""
    if not rt.scheduled:
        return None
    conn = connect_db(rt.dsn)
    try:
        # a state DB not migrated yet has seen no run at all; the task migrates it right after this guard
        done_before = tenants.schema_ready(conn) and audit.had_manual_success(_tenant_context(conn, rt))
        conn.commit()
    finally:
        conn.close()
    if done_before:
        return None
    return (f"first run for {rt.st.domain} <-> QuickBooks realm {rt.qbo.realm_id}: scheduled runs start only after "
            "a first run triggered by hand. Trigger the DAG with dry_run=true to see the plan, then mode=upload, "
            "download or sync.")


def extract_synchroteam(rt: Runtime) -> dict[str, Any]:
    return _extract(rt, "Synchroteam", lambda ctx: extract.extract_synchroteam(_zone_checked(ctx, rt.st), rt.st))


def _zone_checked(ctx: RunContext, st: SynchroteamApi) -> RunContext:
    """Reads of an account whose clock contradicted its configured zone stay held until the option changes."""
    held = tenants.zone_hold(ctx)
    if held is not None and held[0] == st.timezone:
        raise ConfigurationError(held[1], option="timezone", connection=f"the Synchroteam account {st.domain}")
    if held is not None:
        log.info("the Synchroteam timezone option changed from %s to %s: reads resume", held[0], st.timezone)
        tenants.release_zone_hold(ctx)
    return ctx


def extract_quickbooks(rt: Runtime) -> dict[str, Any]:
    return _extract(rt, "QuickBooks", lambda ctx: extract.extract_quickbooks(ctx, rt.qbo))


def _extract(rt: Runtime, side: str, read: Callable[[RunContext], dict[str, Any]]) -> dict[str, Any]:
    """Once a run has written, its extract and plan are kept as they are when a task is cleared and re-run: a plan
    recomputed from this run's old records against bases that its own done rows have moved would write old values
    back, and a re-extract would advance the watermark past records the kept plan never saw."""
    with _context(rt, first=True) as ctx:
        if plan_db.any_done(ctx):
            log.info("this run already wrote: its %s extract is kept", side)
            return {"kept": True}
        summary = read(ctx)
        ctx.conn.commit()
        return summary


def diff_and_match(rt: Runtime) -> dict[str, Any]:
    with _context(rt) as ctx:
        if plan_db.any_done(ctx):
            rows = plan_db.rows(ctx)
            log.info("this run already wrote: its plan (%d rows) is kept; failed and pending rows are retried", len(rows))
            return {"rows": len(rows), "kept": True}
        result, both_full = _plan_customers(ctx, rt.st.timezone)
        if not rt.dry_run:
            mapping_db.save_ambiguous(ctx, result.ambiguous, result.linked_keys, both_full)
        audit.clear_conflicts(ctx)
        for c in result.conflicts:
            audit.record_conflict(ctx, c["st_id"], c["qbo_id"], c["field"], c["st_value"], c["qbo_value"],
                                  c["winner"], c["rule"])
        written = plan_db.replace(ctx, [r.as_dict() for r in result.rows])
        extracts.mark_planned(ctx)
        ctx.conn.commit()
        counts: dict[str, int] = {}
        for row in result.rows:
            counts[str(row.action)] = counts.get(str(row.action), 0) + 1
        log.info("plan: %d rows %s, %d conflicts", written, counts, len(result.conflicts))
        return {"rows": written, "actions": counts, "conflicts": len(result.conflicts)}


def _plan_customers(ctx: RunContext, st_zone: str) -> tuple[plan_customers.Plan, bool]:
    """Read the planner's inputs from the state DB and build the customer plan (pure)."""
    read = extracts.run_extracts(ctx)
    inputs = plan_customers.PlanInputs(
        mode=ctx.mode,
        st_staged=dict(staging.rows(ctx, "st_customer")),
        qbo_staged=dict(staging.rows(ctx, "qbo_customer")),
        links=mapping_db.links(ctx),
        st_bases=mapping_db.bases(ctx, "st"),
        qbo_bases=mapping_db.bases(ctx, "qbo"),
        st_zone=st_zone,
        other_names=staging.other_names(ctx),
        st_full_read=bool(read.get(("st", "customer"), {}).get("full_read")),
    )
    both_full = all(read.get((side, "customer"), {}).get("full_read") for side in ("st", "qbo"))
    if not both_full:   # a full read of both sides sees every member of a group: it decides afresh
        inputs.ambiguous_keys = mapping_db.ambiguous_keys(ctx)
    return plan_customers.build(inputs), both_full


def load_changes(rt: Runtime) -> dict[str, Any]:
    if rt.dry_run:
        return {"dry_run": True}
    with _context(rt) as ctx:
        counts = load_customers.Loader(ctx, rt.qbo, rt.st).run()
        log.info("load: %s", dict(counts))
        _hold_on_zone_mismatch(ctx, rt.st)
        return dict(counts)


def _hold_on_zone_mismatch(ctx: RunContext, st: SynchroteamApi) -> None:
    """A write showed the account's clock in another zone than configured: say so plainly (the run is red) and
    hold the account's reads until the option is fixed."""
    mismatch = st.zone_mismatch
    if mismatch is None:
        return
    message = mismatch.message(st.domain)
    tenants.hold_zone(ctx, mismatch.configured, message)
    audit.record_error(ctx, "load_changes", "synchroteam", "account", st.domain, message, code="timezone_mismatch",
                       field="timezone")
    ctx.conn.commit()


def push_invoices(rt: Runtime) -> dict[str, Any]:
    with _context(rt) as ctx:
        return plan_and_push_invoices(ctx, rt.qbo, rt.st, rt.options)


def plan_and_push_invoices(ctx: RunContext, qbo: QuickBooksApi, st: SynchroteamApi,
                           options: QuickBooksOptions) -> dict[str, Any]:
    """push_invoices within one run context (tests and benchmarks call it without Airflow): plan every staged
    invoice (`plan_invoices`, pure) and store the plan, then load it (`load_invoices`); a dry run reports the plan
    instead (creates and updates ``planned``), as it reports the customer plan. Every attempt plans afresh: the
    ledger knows what an earlier attempt of the run already wrote."""
    load_invoices.begin(ctx)
    note = plan_invoices.mode_note(ctx.mode)
    if note is not None:
        log.info("mode %s: invoices are pushed in sync mode only; nothing to do", ctx.mode)
        load_invoices.add_note(ctx, note)
        return {"mode": str(ctx.mode), "note": "invoices are pushed in sync mode only"}
    staged = staging.rows(ctx, "st_invoice")
    if not staged:
        log.info("no Synchroteam invoice changed since the last run")
        return {"invoices": 0}
    inputs = load_invoices.read_inputs(ctx, qbo, st, options, staged)
    rows = plan_invoices.build(plan_invoices.PlanInputs(ctx.mode, ctx.dry_run, inputs.settings, inputs.invoices,
                                                               inputs.eligible))
    invoice_plan.replace(ctx, [r.as_dict() for r in rows])
    ctx.conn.commit()
    stored = [plan_invoices.InvoicePlanRow.from_dict(r) for r in invoice_plan.rows(ctx)]
    if ctx.dry_run:
        counts = load_invoices.show_plan(ctx, inputs, stored)
    else:
        counts = load_invoices.load(ctx, qbo, st, inputs, stored)
    log.info("invoices: %s", dict(counts))
    return dict(counts)


def build_report(rt: Runtime, upstream_failed: bool = False) -> dict[str, Any]:
    """Write and print the report, commit watermarks (per entity, only when that entity had no failure), give
    back the lease, and fail when any record failed."""
    conn = connect_db(rt.dsn)
    try:
        ctx = _tenant_context(conn, rt) if tenants.schema_ready(conn) else None
        if ctx is None or audit.run_info(ctx) is None:
            if upstream_failed:  # report is the DAG's only leaf: the run is red only if report fails
                raise RunFailed(f"Run {rt.run_id} stopped before it started its work (see the extract tasks' logs: "
                                "another run holding the tenant, or a connection problem). Nothing was written.")
            report.emit(f"Run {rt.run_id}: nothing was done (skipped before it started; see the extract tasks' logs).")
            return {"status": "skipped"}
        try:
            summary = _finish(ctx, rt, upstream_failed)
        finally:
            conn.rollback()
            lease.release(ctx)   # always: a failed report must not block later runs
    finally:
        conn.close()
    if summary["status"] != "success":
        raise RunFailed(f"{len(summary['errors'])} record(s) failed or a task failed; see the report above. "
                        "Fix the cause, then clear the run's failed tasks to retry just those records.")
    return {k: summary[k] for k in ("status", "customer_counts", "invoice_counts")} | {
        "errors": len(summary["errors"]), "conflicts": len(summary["conflicts"])}


def check_alerts(rt: Runtime, failed: bool, link: str, stale_hours: float = alerts.DEFAULT_STALE_HOURS
                 ) -> list[alerts.Alert]:
    """The report task's last step: the alert messages this run's outcome calls for (recorded, then returned for
    the DAG to send). Runs after every run, even one that stopped early, so a stale tenant is noticed."""
    conn = connect_db(rt.dsn)
    try:
        if not tenants.schema_ready(conn):
            return []
        ctx = _tenant_context(conn, rt)
        tenant = f"{rt.st.domain} <-> QuickBooks realm {rt.qbo.realm_id} ({rt.qbo.environment})"
        due = alerts.check(ctx, failed, tenant, link, stale_hours, watermarks.utcnow())
        conn.commit()
        return due
    finally:
        conn.close()


def _finish(ctx: RunContext, rt: Runtime, upstream_failed: bool) -> dict[str, Any]:
    """The report's unit of work: summary, watermarks, the run's audit row, staging purge; logged once committed."""
    summary = summarize(ctx, rt, upstream_failed)
    if not rt.dry_run and not upstream_failed:
        held = {e["entity"] for e in summary["errors"]}
        if plan_db.rows(ctx, ("pending", "failed", "superseded")):
            held.add("customer")   # read this window again: those records are planned anew next run
        watermarks.commit(ctx, held)
    text = report.render(summary, *plan_review(ctx))
    audit.finish_run(ctx, summary["status"], summary, text)
    staging.purge_old(ctx.conn)
    ctx.conn.commit()
    report.emit(text)
    return summary


def plan_review(ctx: RunContext) -> tuple[list[review.CustomerReview], list[review.InvoiceReview]]:
    """The run's plan record by record, computed from what the run stored (its plan rows, and the customer of each
    invoice from its staged invoices while they are kept): the same for a dry run and a real one, at any time."""
    invoices = invoice_plan.rows(ctx)
    customers: dict[int, str] = {}
    if invoices:
        for st_id, raw in staging.rows(ctx, "st_invoice"):
            customer = raw.get("customer") or {}
            if customer.get("name"):
                customers[int(st_id)] = str(customer["name"])
    return review.customer_reviews(plan_db.rows(ctx)), review.invoice_reviews(invoices, customers)


def summarize(ctx: RunContext, rt: Runtime, upstream_failed: bool) -> dict[str, Any]:
    info = audit.run_info(ctx) or {}
    rows = plan_db.rows(ctx)
    errors = audit.record_errors(ctx)
    inv = load_invoices.summary(ctx)
    started = info.get("started_at")
    duration = (watermarks.utcnow() - started).total_seconds() if started else 0.0
    warnings = [f"{r['action']}: {r['reason']} ({_record_ids(r)})" for r in rows
                if r["action"] in ("warning", "ambiguous", "skip")]
    status = "failed" if errors or upstream_failed else "success"
    return {
        "run_id": rt.run_id, "mode": str(rt.mode), "dry_run": rt.dry_run,
        "tenant": f"{rt.st.domain} <-> realm {rt.qbo.realm_id} ({rt.qbo.environment})",
        "status": status, "duration_s": duration,
        "customer_counts": report.plan_counts(rows),
        "invoice_counts": inv.get("counts", {}), "invoices": inv,
        "conflicts": [{k: c[k] for k in ("st_id", "qbo_id", "field", "st_value", "qbo_value", "winner", "rule")}
                      for c in audit.conflicts(ctx)],
        "warnings": warnings,
        "errors": [{k: e[k] for k in ("task", "side", "entity", "record_key", "field", "code", "message")}
                   for e in errors],
    }


def _record_ids(row: dict[str, Any]) -> str:
    ids = []
    if row.get("st_id") is not None:
        ids.append(f"Synchroteam {row['st_id']}")
    if row.get("qbo_id") is not None:
        ids.append(f"QuickBooks {row['qbo_id']}")
    payload = row.get("payload") or {}
    if row["action"] == "ambiguous":
        ids = [f"Synchroteam {payload.get('st_ids')}", f"QuickBooks {payload.get('qbo_ids')}"]
    return ", ".join(ids) or "-"
