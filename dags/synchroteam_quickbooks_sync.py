"""Synchroteam <-> QuickBooks Online: invoices to QuickBooks, customers and contacts both ways, every 20 minutes.

The tasks are thin: each builds the run's `Runtime` and calls one function of `stqbo_sync.service` (the sync core,
which never imports Airflow). Hooks live in plugins/stqbo_hooks. Parsing this file touches no network and no DB.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

DOC_MD = """
### Synchroteam ↔ QuickBooks Online

Every 20 minutes (`mode=sync`): new or changed Synchroteam invoices are pushed to QuickBooks (their customer is
created first when needed), and customers with their contact are synced both ways.

**Trigger by hand** (▶ *Trigger DAG w/ config*):

| mode | what it does |
|---|---|
| `sync` | incremental two-way sync of customers + invoice push (what the schedule runs) |
| `upload` | every Synchroteam customer and its contact to QuickBooks: linked to a same-name customer or created |
| `download` | every QuickBooks customer to Synchroteam: linked to a same-name customer or created |

`dry_run: true` computes the plan and logs it (record by record) in the `report` task's log; nothing is written to either side.
Run a dry run before the first Upload or Download. **Scheduled runs wait for you**: until a run triggered by hand
has succeeded for this Synchroteam account and QuickBooks company, scheduled runs are skipped (their extract tasks
say why), so nothing is written before you have seen a plan.

**Reading a run**: open the `report` task's log: counts per action and side, conflicts with both values, probable
duplicates, invoices pushed, one line per record that failed (side, record, field, code, plain message), and the
plan record by record (action, both sides' names and ids, why, each field's value before and after; each invoice
with its customer, total, action and reason; the first 200 of each, all of them in the state DB).

**A red run**: records that failed are listed in the report; the rest of the run went on. Fix the cause (e.g. a
name QuickBooks refuses), then *Clear* the failed tasks (or the whole run): done work is skipped, failed records are
retried, nothing is written twice. A run that failed on authentication needs the QuickBooks connection to be
re-authorised first (`make connect`, see docs/operating.md). Runs never overlap: a run waits for the tenant's lease.

**Alerts**: the `report` task sends one message when a run fails, when QuickBooks must be re-authorised, or when no
run has succeeded for N hours, and one when a run succeeds again (Variables `stqbo_alert_to`,
`stqbo_alert_notifier`, `stqbo_alert_stale_hours`; see docs/operating.md, "Alerts").
"""

# The retry delay can be shortened for tests (STQBO_RETRY_DELAY_SECONDS); read at parse time, no I/O.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("STQBO_RETRY_DELAY_SECONDS", "60")))

DEFAULT_ARGS = {
    "owner": "integrations",
    "retries": 3,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def _runtime() -> Any:
    """Build the run's Runtime from the Airflow context: params, run id and the two hooks' clients."""
    from stqbo_hooks.quickbooks import QuickBooksHook, state_db_dsn
    from stqbo_hooks.synchroteam import SynchroteamHook
    from stqbo_sync.service import Runtime

    ctx = get_current_context()
    params = ctx["params"]
    qbo = QuickBooksHook().get_conn()
    return Runtime(
        dsn=state_db_dsn(),
        run_id=ctx["run_id"],
        qbo=qbo,
        st=SynchroteamHook().get_conn(),
        mode=params.get("mode", "sync"),
        dry_run=bool(params.get("dry_run", False)),
        scheduled=str(getattr(ctx["dag_run"], "run_type", "")).lower().endswith("scheduled"),
        options=qbo.options,
    )


def _step(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one task's step; a configuration error (a connection option that is missing or wrong, or an account
    whose clock contradicts its time zone option) fails the task at once: retrying cannot fix it, a person must."""
    from airflow.sdk.exceptions import AirflowFailException

    from stqbo_api.errors import ConfigurationError

    try:
        return call()
    except ConfigurationError as err:
        raise AirflowFailException(str(err)) from None


def _guarded(rt: Any) -> Any:
    """Skip (not fail) a scheduled run for a tenant that has never had a run triggered by hand."""
    from airflow.sdk.exceptions import AirflowSkipException

    from stqbo_sync import service

    if reason := service.scheduled_run_blocked(rt):
        print(reason)  # the task log shows only "Skipping task." for the exception itself
        raise AirflowSkipException(reason)
    return rt


def _alert(rt: Any, failed: bool) -> None:
    """Send the alerts this run calls for (failed run, re-authorise QuickBooks, no success for N hours, recovered)
    through the configured Airflow notifiers (plugins/stqbo_hooks/alerting.py); never changes the run's state."""
    from stqbo_hooks import alerting
    from stqbo_sync import service

    ctx = get_current_context()
    try:
        due = service.check_alerts(rt, failed, alerting.run_link(ctx["dag"].dag_id, ctx["run_id"]),
                                   alerting.stale_hours())
    except Exception:  # noqa: BLE001 - the report's own outcome is what the run must show
        import logging

        logging.getLogger(__name__).exception("could not check the alerts")
        return
    alerting.send(due, ctx)


@dag(
    dag_id="synchroteam_quickbooks_sync",
    schedule="*/20 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["synchroteam", "quickbooks", "sync"],
    doc_md=DOC_MD,
    params={
        "mode": Param("sync", type="string", enum=["sync", "upload", "download"],
                      description="sync: both ways, incremental; upload: all Synchroteam customers to QuickBooks; "
                                  "download: all QuickBooks customers to Synchroteam"),
        "dry_run": Param(False, type="boolean", description="compute and report the plan; write nothing"),
    },
)
def synchroteam_quickbooks_sync() -> None:
    @task
    def extract_synchroteam() -> dict[str, Any]:
        from stqbo_sync import service

        return _step(lambda: service.extract_synchroteam(_guarded(_runtime())))

    @task
    def extract_quickbooks() -> dict[str, Any]:
        from stqbo_sync import service

        return _step(lambda: service.extract_quickbooks(_guarded(_runtime())))

    @task
    def diff_and_match(st_summary: dict[str, Any], qbo_summary: dict[str, Any]) -> dict[str, Any]:
        from stqbo_sync import service

        return _step(lambda: service.diff_and_match(_runtime()))

    @task
    def load_changes(plan_summary: dict[str, Any]) -> dict[str, Any]:
        from stqbo_sync import service

        return _step(lambda: service.load_changes(_runtime()))

    @task
    def push_invoices(load_summary: dict[str, Any]) -> dict[str, Any]:
        from stqbo_sync import service

        return _step(lambda: service.push_invoices(_runtime()))

    @task(trigger_rule="all_done", retries=0)
    def report() -> dict[str, Any]:
        """Always runs (even after a failure) so the lease is given back and the report written."""
        from stqbo_sync import service

        ctx = get_current_context()
        run_id = ctx["run_id"]
        states = ctx["ti"].get_task_states(dag_id=ctx["dag"].dag_id, run_ids=[run_id]).get(run_id, {})
        upstream = {task_id: state for task_id, state in states.items() if task_id != "report"}
        if upstream and all(state == "skipped" for state in upstream.values()):
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException("the run was skipped before it started (see extract_synchroteam's log)")
        failed = any(state not in ("success", "skipped") for state in upstream.values())
        rt = _runtime()
        try:
            result = service.build_report(rt, upstream_failed=failed)
        except service.RunFailed:
            _alert(rt, failed=True)
            raise
        _alert(rt, failed=False)
        return result

    st, qbo = extract_synchroteam(), extract_quickbooks()
    plan = diff_and_match(st, qbo)
    load = load_changes(plan)
    push = push_invoices(load)
    # report waits for every task (trigger rule all_done), so it never runs while an extract is still retrying
    [st, qbo, plan, load, push] >> report()


synchroteam_quickbooks_sync()
