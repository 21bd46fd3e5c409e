"""Shared test harness: a real PostgreSQL, both simulators over real HTTP, and real Airflow runs.

Airflow reads its configuration once, on import, so the environment is set here at module level, before any test
module imports airflow. Airflow's metadata DB is SQLite in a throw-away AIRFLOW_HOME; the connector's state DB is
PostgreSQL (see devenv/pg.py for how it is found or started).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from devenv import pg, sims
from devenv.airflow_base import REPO, airflow_base_env

os.environ.update(airflow_base_env(Path(tempfile.mkdtemp(prefix="stqbo-airflow-home-"))))
os.environ.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                   "STQBO_RETRY_DELAY_SECONDS": "1"})

QBO_CLIENT_ID = "demo-client"
QBO_CLIENT_SECRET = "demo-secret"
ST_DOMAIN = "demo"
ST_API_KEY = "demo-api-key"


# ----------------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    yield pg.find_or_start(REPO / "var" / "pgdata-test")


@pytest.fixture(scope="session")
def state_db_url(pg_server: pg.PgServer) -> Iterator[str]:
    """One fresh database per test session, dropped afterwards."""
    name, url = pg_server.create_temp_database()
    try:
        yield url
    finally:
        pg_server.drop_database(name)


def _drop_user_schemas(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname NOT IN ('information_schema', 'public')"
        )
        for (schema,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    conn.close()


@pytest.fixture()
def state_db(state_db_url: str) -> str:
    """A psycopg2 DSN to an empty state database (every schema dropped before the test)."""
    _drop_user_schemas(state_db_url)
    return state_db_url


@pytest.fixture()
def state_db_conn(state_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_STATE_DB", pg.airflow_conn_json(state_db))
    return state_db


# ----------------------------------------------------------------------------------------------- simulators


@pytest.fixture(scope="session")
def qbo_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sims.SimProcess]:
    sim = sims.start("quickbooks", log_path=tmp_path_factory.mktemp("sim") / "quickbooks.log")
    sim.real_limits = sim.admin("GET", "/_sim/limits").json()   # type: ignore[attr-defined]
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def st_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sims.SimProcess]:
    """The Synchroteam simulator with the real service's defaults (America/New_York, prefix name look-ups)."""
    sim = sims.start("synchroteam", log_path=tmp_path_factory.mktemp("sim") / "synchroteam.log")
    yield sim
    sim.stop()


@pytest.fixture()
def qbo(qbo_sim: sims.SimProcess) -> sims.SimProcess:
    """The QuickBooks simulator, reset: empty default realm, no faults, empty request log, clock at now, and the
    real service's limits (a reset keeps limits, and a test may have switched them off)."""
    qbo_sim.reset()
    qbo_sim.admin("POST", "/_sim/limits", json=qbo_sim.real_limits).raise_for_status()   # type: ignore[attr-defined]
    return qbo_sim


@pytest.fixture()
def st(st_sim: sims.SimProcess) -> sims.SimProcess:
    """The Synchroteam simulator, reset, its demo account back at the real defaults (a test may have moved its
    time zone or name look-up; the simulator keeps account settings across a reset)."""
    st_sim.reset()
    st_sim.admin("PATCH", "/_sim/account", json={"timezone": sims.ST_TIMEZONE, "name_lookup": "prefix"}
                 ).raise_for_status()
    return st_sim


@pytest.fixture()
def st_real(st: sims.SimProcess) -> sims.SimProcess:
    """The Synchroteam simulator with its real defaults, reset (the simulator's own contract tests use it)."""
    return st


def qbo_conn_json(sim: sims.SimProcess, realm_id: str, refresh_token: str, **extra: Any) -> str:
    return json.dumps(
        {
            "conn_type": "quickbooks",
            "host": sim.url,
            "login": QBO_CLIENT_ID,
            "password": QBO_CLIENT_SECRET,
            "extra": {
                "realm_id": realm_id,
                "refresh_token": refresh_token,
                "token_url": sim.url + "/oauth2/v1/tokens/bearer",
                "environment": "sandbox",
                **extra,
            },
        }
    )


@pytest.fixture()
def qbo_grant(qbo: sims.SimProcess) -> dict[str, str]:
    """A fresh OAuth grant on the (reset) default realm, as if a person had connected the app."""
    resp = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET})
    resp.raise_for_status()
    return dict(resp.json())


@pytest.fixture()
def qbo_conn(qbo: sims.SimProcess, qbo_grant: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv(
        "AIRFLOW_CONN_QUICKBOOKS_DEFAULT", qbo_conn_json(qbo, qbo_grant["realm_id"], qbo_grant["refresh_token"])
    )
    return qbo_grant


@pytest.fixture()
def qbo_conn_factory(qbo_sim: sims.SimProcess, st_sim: sims.SimProcess, state_db_url: str,
                     monkeypatch: pytest.MonkeyPatch) -> Any:
    """For tests that reset the simulators themselves (property tests): (re)grant and point every connection."""

    def _connect() -> dict[str, str]:
        grant = dict(qbo_sim.admin("POST", "/_sim/oauth/grant",
                                   json={"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET}).json())
        monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_DEFAULT", qbo_conn_json(qbo_sim, grant["realm_id"],
                                                                              grant["refresh_token"]))
        monkeypatch.setenv("AIRFLOW_CONN_SYNCHROTEAM_DEFAULT", json.dumps(
            {"conn_type": "synchroteam", "host": st_sim.url, "login": ST_DOMAIN, "password": ST_API_KEY,
             "extra": {"timezone": sims.ST_TIMEZONE}}))
        monkeypatch.setenv("AIRFLOW_CONN_SYNC_STATE_DB", pg.airflow_conn_json(state_db_url))
        return grant

    return _connect


@pytest.fixture()
def st_conn(st: sims.SimProcess, monkeypatch: pytest.MonkeyPatch) -> sims.SimProcess:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT",
        json.dumps({"conn_type": "synchroteam", "host": st.url, "login": ST_DOMAIN, "password": ST_API_KEY,
                    "extra": {"timezone": sims.ST_TIMEZONE}}),
    )
    return st


@pytest.fixture()
def connections(qbo_conn: dict[str, str], st_conn: sims.SimProcess, state_db_conn: str) -> dict[str, Any]:
    """All three Airflow connections of the DAG, pointing at the reset simulators and an empty state DB."""
    return {"qbo": qbo_conn, "st": st_conn, "state_db": state_db_conn}


# ----------------------------------------------------------------------------------------------- Airflow


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata DB (SQLite in the throw-away AIRFLOW_HOME), created once per session."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def sync_dag(airflow_db: None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["synchroteam_quickbooks_sync"]


@pytest.fixture()
def run_dag(sync_dag: Any, connections: dict[str, Any]) -> Any:
    """Run the DAG with ``dag.test()`` and check the run's state (a failed task does not raise there)."""

    def _run(expect: str = "success", **conf: Any) -> Any:
        # every param explicitly: dag.test() runs in-process and a previous run's conf must not leak into this one
        dr = sync_dag.test(run_conf={"mode": "sync", "dry_run": False, **conf})
        states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
        assert dr.state == expect, f"run {dr.run_id} ended {dr.state}, expected {expect}: {states}"
        return dr

    return _run


@pytest.fixture()
def rerun_dag(sync_dag: Any, connections: dict[str, Any]) -> Any:
    """Clear a finished run and run it again under the same run id, as an operator's *Clear* in the UI does."""

    def _rerun(dr: Any, expect: str = "success") -> Any:
        from airflow import settings
        from airflow.models.dagrun import DagRun
        from airflow.utils.state import DagRunState

        session = settings.Session()
        row = session.query(DagRun).filter(DagRun.run_id == dr.run_id).one()
        row.state = DagRunState.RUNNING
        session.commit()
        again = sync_dag.test(logical_date=dr.logical_date, run_after=dr.run_after, run_conf=dict(dr.conf))
        assert again.run_id == dr.run_id
        states = {ti.task_id: ti.state for ti in again.get_task_instances()}
        assert again.state == expect, f"re-run of {dr.run_id} ended {again.state}, expected {expect}: {states}"
        return again

    return _rerun
