"""The `report` task's log: the whole report, Plan section included, is ONE log record (nothing printed line by line
that Airflow could interleave with its own lines), the same text is stored with the run, and the task's return
value (its XCom) holds counts only."""

from __future__ import annotations

import logging

import psycopg2
import pytest

from stqbo_store import audit, connect, migrate, tenants
from stqbo_store import plan as plan_db
from stqbo_sync import service
from stqbo_sync.types import Mode, RunContext
from tests.unit.fakes import FakeQuickBooks, FakeSynchroteam


def test_report_is_one_log_record_stored_with_the_run_and_the_xcom_is_counts(
        state_db: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    qbo, st = FakeQuickBooks(realm_id="9130"), FakeSynchroteam()
    conn = connect(state_db)
    migrate.migrate(conn)
    tenant_id = tenants.ensure_tenant(conn, st.domain, qbo.realm_id, qbo.environment, qbo.base_url)
    ctx = RunContext(conn, tenant_id, "run-1", Mode.UPLOAD, True)
    audit.start_run(ctx, Mode.UPLOAD, True)
    plan_db.replace(ctx, [{"action": "create_qbo", "reason": "new in Synchroteam", "st_id": 4, "status": "pending",
                           "payload": {"canon": {"name": "=Bolt Ltd", "email": "b@x.com"}, "display_name": "=Bolt Ltd"}}])
    conn.commit()
    conn.close()
    rt = service.Runtime(dsn=state_db, run_id="run-1", qbo=qbo, st=st, mode=Mode.UPLOAD, dry_run=True)
    with caplog.at_level(logging.INFO):
        xcom = service.build_report(rt)
    [record] = [r for r in caplog.records if r.name == "stqbo_sync.report"]
    text = record.getMessage()
    assert "Plan: customers (1)" in text and "4 =Bolt Ltd" in text and "new in Synchroteam" in text
    assert capsys.readouterr().out == ""
    with psycopg2.connect(state_db) as check, check.cursor() as cur:
        cur.execute("SELECT report FROM audit.run WHERE run_id='run-1'")
        assert cur.fetchone()[0] == text
    assert xcom == {"status": "success", "customer_counts": [["create", "QuickBooks", "pending", 1]],
                    "invoice_counts": {}, "errors": 0, "conflicts": 0}
