"""One entry point per DAG task. Each opens the state DB, checks the tenant's run lease, does its step, commits,
and returns a small summary (counts only) for XCom."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stqbo_sync import extract, invoices, load, plan, report, store
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi

log = logging.getLogger(__name__)
LEASE_WAIT_SECONDS = 60.0
MODES = ("sync", "upload", "download")


class RunFailed(RuntimeError):
    """Raised by `report` when records failed, so the run shows red and a clear retries just those records."""


@dataclass
class Runtime:
    """What a task needs: where the state lives, the two API clients, and the run's identity and params."""

    dsn: str = field(repr=False)   # may hold a password
    run_id: str
    qbo: QuickBooksApi
    st: SynchroteamApi
    mode: str = "sync"
    dry_run: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    scheduled: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")


def _connect(rt: Runtime) -> tuple[store.Conn, int]:
    """The state DB, migrated (the DAG applies its own migrations), and the run's tenant."""
    conn = store.connect(rt.dsn)
    store.migrate(conn)
    tenant_id = store.ensure_tenant(conn, rt.st.domain, rt.qbo.realm_id, rt.qbo.environment,
                                    str(getattr(rt.qbo, "base_url", "")))
    conn.commit()
    return conn, tenant_id


def _open(rt: Runtime, first: bool = False) -> tuple[store.Conn, int]:
    conn, tenant_id = _connect(rt)
    if first:
        store.acquire_lease(conn, tenant_id, rt.run_id, wait_seconds=LEASE_WAIT_SECONDS)
        store.start_run(conn, tenant_id, rt.run_id, rt.mode, rt.dry_run)
        conn.commit()
    else:
        store.check_lease(conn, tenant_id, rt.run_id)
    return conn, tenant_id


def scheduled_run_blocked(rt: Runtime) -> str | None:
    """A scheduled run never makes the first writes for a tenant: a person starts with a dry run, then an Upload,
    Download or sync triggered by hand. Returns why the run must be skipped, or None."""
    if not rt.scheduled:
        return None
    conn, tenant_id = _connect(rt)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM audit.run WHERE tenant_id=%s AND status='success' AND NOT dry_run LIMIT 1",
                        (tenant_id,))
            done_before = cur.fetchone() is not None
        conn.commit()
    finally:
        conn.close()
    if done_before:
        return None
    return (f"first run for {rt.st.domain} <-> QuickBooks realm {rt.qbo.realm_id}: scheduled runs start only after "
            "a first run triggered by hand. Trigger the DAG with dry_run=true to see the plan, then mode=upload, "
            "download or sync.")


def _already_writing(conn: store.Conn, tenant_id: int, run_id: str) -> bool:
    """Once a run has written, its extract and plan are kept as they are when a task is cleared and re-run: a plan
    recomputed from this run's old records against bases that its own done rows have moved would write old values
    back, and a re-extract would advance the watermark past records the kept plan never saw."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM sync.plan WHERE tenant_id=%s AND run_id=%s AND status='done' LIMIT 1",
                    (tenant_id, run_id))
        return cur.fetchone() is not None


def extract_synchroteam(rt: Runtime) -> dict[str, Any]:
    return _extract(rt, "Synchroteam", lambda conn, tenant_id: extract.extract_synchroteam(
        conn, rt.st, tenant_id, rt.run_id, rt.mode))


def extract_quickbooks(rt: Runtime) -> dict[str, Any]:
    return _extract(rt, "QuickBooks", lambda conn, tenant_id: extract.extract_quickbooks(
        conn, rt.qbo, tenant_id, rt.run_id, rt.mode))


def _extract(rt: Runtime, side: str, read: Callable[[store.Conn, int], dict[str, Any]]) -> dict[str, Any]:
    conn, tenant_id = _open(rt, first=True)
    try:
        if _already_writing(conn, tenant_id, rt.run_id):
            log.info("this run already wrote: its %s extract is kept", side)
            return {"kept": True}
        return read(conn, tenant_id)
    finally:
        conn.close()


def diff_and_match(rt: Runtime) -> dict[str, Any]:
    conn, tenant_id = _open(rt)
    try:
        if _already_writing(conn, tenant_id, rt.run_id):
            rows = store.plan_rows(conn, tenant_id, rt.run_id)
            log.info("this run already wrote: its plan (%d rows) is kept; failed and pending rows are retried", len(rows))
            return {"rows": len(rows), "kept": True}
        extracts = store.run_extracts(conn, tenant_id, rt.run_id)
        inputs = plan.PlanInputs(
            mode=rt.mode,
            st_staged=dict(store.staged(conn, "st_customer", tenant_id, rt.run_id)),
            qbo_staged=dict(store.staged(conn, "qbo_customer", tenant_id, rt.run_id)),
            links=store.links(conn, tenant_id),
            st_bases=store.bases(conn, tenant_id, "st"),
            qbo_bases=store.bases(conn, tenant_id, "qbo"),
            other_names=store.other_names(conn, tenant_id, rt.run_id),
            st_full_read=bool(extracts.get(("st", "customer"), {}).get("full_read")),
        )
        both_full = all(extracts.get((side, "customer"), {}).get("full_read") for side in ("st", "qbo"))
        if not both_full:   # a full read of both sides sees every member of a group: it decides afresh
            inputs.ambiguous_keys = store.ambiguous_keys(conn, tenant_id)
        result = plan.build(inputs)
        if not rt.dry_run:
            store.save_ambiguous(conn, tenant_id, rt.run_id, result.ambiguous, result.linked_keys, both_full)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM audit.conflict WHERE tenant_id=%s AND run_id=%s", (tenant_id, rt.run_id))
        for c in result.conflicts:
            store.record_conflict(conn, tenant_id, rt.run_id, c["st_id"], c["qbo_id"], c["field"], c["st_value"],
                                  c["qbo_value"], c["winner"], c["rule"])
        written = store.replace_plan(conn, tenant_id, rt.run_id, result.rows)
        store.mark_extracts_planned(conn, tenant_id, rt.run_id)
        conn.commit()
        counts: dict[str, int] = {}
        for row in result.rows:
            counts[row["action"]] = counts.get(row["action"], 0) + 1
        log.info("plan: %d rows %s, %d conflicts", written, counts, len(result.conflicts))
        return {"rows": written, "actions": counts, "conflicts": len(result.conflicts)}
    finally:
        conn.close()


def load_changes(rt: Runtime) -> dict[str, Any]:
    if rt.dry_run:
        return {"dry_run": True}
    conn, tenant_id = _open(rt)
    try:
        counts = load.Loader(conn, rt.qbo, rt.st, tenant_id, rt.run_id, mode=rt.mode).run()
        log.info("load: %s", dict(counts))
        return dict(counts)
    finally:
        conn.close()


def push_invoices(rt: Runtime) -> dict[str, Any]:
    conn, tenant_id = _open(rt)
    try:
        return invoices.push(conn, rt.qbo, rt.st, tenant_id, rt.run_id, rt.mode, rt.dry_run, rt.options)
    finally:
        conn.close()


def build_report(rt: Runtime, upstream_failed: bool = False, started: float | None = None) -> dict[str, Any]:
    """Write and print the report, commit watermarks (per entity, only when that entity had no failure), give
    back the lease, and fail when any record failed."""
    conn, tenant_id = _connect(rt)
    try:
        if store.run_info(conn, tenant_id, rt.run_id) is None:
            if upstream_failed:  # report is the DAG's only leaf: the run is red only if report fails
                raise RunFailed(f"Run {rt.run_id} stopped before it started its work (see the extract tasks' logs: "
                                "another run holding the tenant, or a connection problem). Nothing was written.")
            print(f"Run {rt.run_id}: nothing was done (skipped before it started; see the extract tasks' logs).")
            return {"status": "skipped"}
        summary = summarize(conn, tenant_id, rt, upstream_failed)
        if not rt.dry_run and not upstream_failed:
            held = {e["entity"] for e in summary["errors"]}
            if store.plan_rows(conn, tenant_id, rt.run_id, ("pending", "failed", "superseded")):
                held.add("customer")   # read this window again: those records are planned anew next run
            _commit_watermarks(conn, tenant_id, rt.run_id, held)
            store.mark_extracts_completed(conn, tenant_id, rt.run_id)
        text = report.render(summary)
        store.finish_run(conn, tenant_id, rt.run_id, summary["status"], summary, text)
        store.purge_old_staging(conn)
        conn.commit()
        print(text)
    finally:
        conn.rollback()
        store.release_lease(conn, tenant_id, rt.run_id)   # always: a failed report must not block later runs
        conn.close()
    if summary["status"] != "success":
        raise RunFailed(f"{len(summary['errors'])} record(s) failed or a task failed; see the report above. "
                        "Fix the cause, then clear the run's failed tasks to retry just those records.")
    return {k: summary[k] for k in ("status", "customer_counts", "invoice_counts")} | {
        "errors": len(summary["errors"]), "conflicts": len(summary["conflicts"])}


def _commit_watermarks(conn: store.Conn, tenant_id: int, run_id: str, failed_entities: set[str]) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE sync.run_extract SET next_watermark = NULL WHERE tenant_id=%s AND run_id=%s AND entity = ANY(%s)",
            (tenant_id, run_id, list(failed_entities)),
        )
    store.commit_watermarks(conn, tenant_id, run_id)


def summarize(conn: store.Conn, tenant_id: int, rt: Runtime, upstream_failed: bool) -> dict[str, Any]:
    info = store.run_info(conn, tenant_id, rt.run_id) or {}
    rows = store.plan_rows(conn, tenant_id, rt.run_id)
    errors = store.record_errors(conn, tenant_id, rt.run_id)
    inv = invoices.summary(conn, tenant_id, rt.run_id)
    started = info.get("started_at")
    duration = (store.utcnow() - started).total_seconds() if started else 0.0
    warnings = [f"{r['action']}: {r['reason']} ({_record_ids(r)})" for r in rows
                if r["action"] in ("warning", "ambiguous", "skip")]
    status = "failed" if errors or upstream_failed else "success"
    return {
        "run_id": rt.run_id, "mode": rt.mode, "dry_run": rt.dry_run,
        "tenant": f"{rt.st.domain} <-> realm {rt.qbo.realm_id} ({rt.qbo.environment})",
        "status": status, "duration_s": duration,
        "customer_counts": report.plan_counts(rows),
        "invoice_counts": inv.get("counts", {}), "invoices": inv,
        "conflicts": [{k: c[k] for k in ("st_id", "qbo_id", "field", "st_value", "qbo_value", "winner", "rule")}
                      for c in store.conflicts(conn, tenant_id, rt.run_id)],
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
