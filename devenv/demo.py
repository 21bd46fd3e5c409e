"""`make demo`: both simulators with demo data, a fresh state DB, then the DAG in `upload` and `sync` mode
(`dag.test()`), with a short summary of each side before and after. Ctrl-C or a failure leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"


def _airflow_env(home: Path) -> None:
    from devenv.airflow_base import airflow_base_env

    os.environ.update(airflow_base_env(home))
    os.environ.update({"AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore::DeprecationWarning"})
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _side_summary(qbo: Any, st: Any) -> list[str]:
    q = qbo.admin("GET", "/_sim/state").json()
    s = st.admin("GET", "/_sim/state").json()
    qc = q.get("Customer", [])
    sc = s.get("customers", [])
    return [
        f"  Synchroteam : {len(sc):3d} customers ({sum(1 for c in sc if c.get('active', True))} active), "
        f"{len(s.get('invoices', []))} invoices ({sum(1 for i in s.get('invoices', []) if i.get('status') != 'draft')} not draft)",
        f"  QuickBooks  : {len(qc):3d} customers ({sum(1 for c in qc if c.get('Active', True))} active), "
        f"{len(q.get('Invoice', []))} invoices, {len(q.get('Item', []))} items",
    ]


def _stored_report(state_url: str, run_id: str) -> str:
    """The run's report as the report task logged it (kept with the run in audit.run)."""
    import psycopg2

    from devenv import pg

    with psycopg2.connect(pg.psycopg2_dsn(state_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT report FROM audit.run WHERE run_id = %s", (run_id,))
        row = cur.fetchone()
    conn.close()
    return str(row[0]) if row and row[0] else f"(no report stored for {run_id})"


def _writes(sim: Any) -> int:
    return len(sim.writes())


def main() -> int:
    from devenv import pg, sims

    VAR.mkdir(exist_ok=True)
    home = VAR / "airflow-demo"
    shutil.rmtree(home, ignore_errors=True)
    _airflow_env(home)
    started: list[Any] = []

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server = pg.find_or_start(VAR / "pgdata")
        server.drop_database("stqbo_demo")
        state_url = server.create_database("stqbo_demo")
        print(f"state DB: {server.origin}, database stqbo_demo")
        qbo = sims.start("quickbooks", seed="demo", log_path=VAR / "demo-quickbooks.log")
        started.append(qbo)
        st = sims.start("synchroteam", seed="demo", log_path=VAR / "demo-synchroteam.log")
        started.append(st)
        print(f"simulators: QuickBooks {qbo.url}  Synchroteam {st.url}")
        grant = qbo.admin("POST", "/_sim/oauth/grant",
                          json={"client_id": "demo-client", "client_secret": "demo-secret"}).json()
        os.environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"] = json.dumps({
            "conn_type": "quickbooks", "host": qbo.url, "login": "demo-client", "password": "demo-secret",
            "extra": {"realm_id": grant["realm_id"], "refresh_token": grant["refresh_token"],
                      "token_url": qbo.url + "/oauth2/v1/tokens/bearer", "environment": "sandbox"}})
        os.environ["AIRFLOW_CONN_SYNCHROTEAM_DEFAULT"] = json.dumps(
            {"conn_type": "synchroteam", "host": st.url, "login": "demo", "password": "demo-api-key",
             "extra": {"timezone": sims.ST_TIMEZONE}})
        os.environ["AIRFLOW_CONN_SYNC_STATE_DB"] = pg.airflow_conn_json(state_url)

        print("\nBefore:")
        print("\n".join(_side_summary(qbo, st)))
        print("\npreparing Airflow's metadata DB (SQLite, var/airflow-demo) ...", flush=True)
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.resetdb()
        dag = DagBag(dag_folder=str(REPO / "dags")).dags["synchroteam_quickbooks_sync"]
        ok = True
        for title, conf in (("Upload (all Synchroteam customers to QuickBooks)", {"mode": "upload", "dry_run": False}),
                            ("Sync (both ways, and invoices to QuickBooks)", {"mode": "sync", "dry_run": False}),
                            ("Sync again (nothing changed: must write nothing)", {"mode": "sync", "dry_run": False})):
            qbo.admin("DELETE", "/_sim/requests")
            st.admin("DELETE", "/_sim/requests")
            print(f"\n=== {title} ===", flush=True)
            dr = dag.test(run_conf=conf)
            states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}
            print(_stored_report(state_url, dr.run_id))
            print(f"run {dr.run_id}: {dr.state}  tasks: {states}")
            print(f"writes: QuickBooks {_writes(qbo)}, Synchroteam {_writes(st)}")
            print("\n".join(_side_summary(qbo, st)))
            ok = ok and str(dr.state) == "success"
        print("\nAfter: the report of each run is above (also in the state DB, table audit.run).")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the simulators")
        return 130
    finally:
        for sim in started:
            sim.stop()


if __name__ == "__main__":
    sys.exit(main())
