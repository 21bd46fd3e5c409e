"""Edits made while a run is in flight, tasks cleared after the run wrote, adoption, colon names in a download.

These drive the task entry points one by one (as Airflow would) so that a person's edit can land between two
tasks of the same run.
"""

from __future__ import annotations

import pytest

from stqbo_sync import service
from tests.e2e.helpers import (
    assert_quiet_rerun,
    by_name,
    clear_logs,
    edit,
    qbo_customer,
    qbo_customers,
    runtime,
    seed_qbo,
    seed_st,
    st_customer,
    st_customers,
)

pytestmark = pytest.mark.e2e


def _whole(rt: service.Runtime) -> None:
    service.extract_synchroteam(rt)
    service.extract_quickbooks(rt)
    service.diff_and_match(rt)
    service.load_changes(rt)
    service.push_invoices(rt)
    service.build_report(rt)


def test_edits_made_while_a_run_is_in_flight_are_not_lost(qbo, st, run_dag, state_db, connections) -> None:
    [a] = seed_st(st, st_customer("Inflight Co", contactEmail="old@inflight.example", contactPhone="555-0100"))
    run_dag(mode="upload")
    qid = by_name(qbo_customers(qbo), "DisplayName")["Inflight Co"]["Id"]
    edit(st, "customers", a["id"], contactEmail="new@inflight.example")    # to be written to QuickBooks
    rt = runtime(state_db, "inflight_1")
    service.extract_synchroteam(rt)
    service.extract_quickbooks(rt)
    service.diff_and_match(rt)
    # a person edits both sides after the extract, before the load
    edit(qbo, "Customer", qid, Mobile={"FreeFormNumber": "555-0777"})
    edit(st, "customers", a["id"], contactPhone="555-0199")
    service.load_changes(rt)
    service.push_invoices(rt)
    service.build_report(rt)
    # nothing a person typed was overwritten, and the next run brings every edit across
    assert by_name(qbo_customers(qbo), "DisplayName")["Inflight Co"]["Mobile"]["FreeFormNumber"] == "555-0777"
    _whole(runtime(state_db, "inflight_2"))
    q = by_name(qbo_customers(qbo), "DisplayName")["Inflight Co"]
    s = by_name(st_customers(st), "name")["Inflight Co"]
    assert q["PrimaryEmailAddr"]["Address"] == "new@inflight.example"
    assert q["PrimaryPhone"]["FreeFormNumber"] == "555-0199"
    assert s["contactMobile"] == "555-0777"
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_clearing_diff_after_the_load_wrote_does_not_write_old_values(qbo, st, run_dag, state_db, connections) -> None:
    [a] = seed_st(st, st_customer("Cleared Co", contactEmail="one@cleared.example"))
    run_dag(mode="upload")
    qid = by_name(qbo_customers(qbo), "DisplayName")["Cleared Co"]["Id"]
    edit(qbo, "Customer", qid, PrimaryEmailAddr={"Address": "two@cleared.example"})
    rt = runtime(state_db, "cleared_1")
    _whole(rt)
    assert by_name(st_customers(st), "name")["Cleared Co"]["contactEmail"] == "two@cleared.example"
    clear_logs(qbo, st)
    # an operator clears diff_and_match and everything after it, for the same run
    assert service.diff_and_match(rt).get("kept") is True
    service.load_changes(rt)
    service.push_invoices(rt)
    service.build_report(rt)
    assert qbo.writes() == [] and st.writes() == []
    assert by_name(qbo_customers(qbo), "DisplayName")["Cleared Co"]["PrimaryEmailAddr"]["Address"] == "two@cleared.example"
    assert a["id"]


def test_download_links_a_colon_name_to_its_quickbooks_form(qbo, st, run_dag) -> None:
    seed_st(st, st_customer("Cedar: East"))
    seed_qbo(qbo, Customer=[qbo_customer("Cedar - East")])
    run_dag(mode="download")
    assert [c["name"] for c in st_customers(st)] == ["Cedar: East"]
    assert [c["DisplayName"] for c in qbo_customers(qbo)] == ["Cedar - East"]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_a_customer_adopted_by_look_before_create_is_merged_not_frozen(qbo, st, run_dag, state_db) -> None:
    """QuickBooks already has the name, unchanged for an hour so an incremental run does not read it: the create is
    turned into an adoption, and the pair is merged like any new link (blanks filled both ways)."""
    from datetime import UTC, datetime, timedelta

    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    seed_qbo(qbo, Customer=[qbo_customer("Adopt Me", PrimaryEmailAddr={"Address": "qbo@adopt.example"},
                                         MetaData={"CreateTime": an_hour_ago, "LastUpdatedTime": an_hour_ago})])
    run_dag(mode="upload")     # full read; an upload never creates in Synchroteam
    seed_st(st, st_customer("Adopt Me", contactPhone="555-0142"))
    run_dag(mode="sync")       # incremental: only the new Synchroteam customer is read
    import psycopg2

    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT result->>'adopted' FROM sync.plan WHERE action = 'create_qbo' AND status = 'done'")
        assert cur.fetchall() == [("true",)]
    q = by_name(qbo_customers(qbo), "DisplayName")
    s = by_name(st_customers(st), "name")
    assert len(q) == 1 and len(s) == 1
    assert q["Adopt Me"].get("PrimaryPhone", {}).get("FreeFormNumber") == "555-0142"
    assert s["Adopt Me"]["contactEmail"] == "qbo@adopt.example"
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_an_ambiguous_name_group_is_never_guessed_later(qbo, st, run_dag, state_db) -> None:
    import psycopg2

    a, _b = seed_st(st, st_customer("Smith Plumbing"), st_customer("Smith Plumbing"))
    seed_qbo(qbo, Customer=[qbo_customer("Smith Plumbing")])
    run_dag(mode="sync")              # full read: reported ambiguous, nothing linked or created
    assert len(qbo_customers(qbo)) == 1 and len(st_customers(st)) == 2
    qid = qbo_customers(qbo)[0]["Id"]
    # later, incremental runs see one member of the group per side: still no guess
    edit(st, "customers", a["id"], contactFax="555-0300")
    edit(qbo, "Customer", qid, Notes="called")
    run_dag(mode="sync")
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM mapping.customer_link")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT st_ids, qbo_ids FROM sync.ambiguous_name")
        assert cur.fetchall() == [([a["id"], _b["id"]], [qid])]
    assert len(qbo_customers(qbo)) == 1 and len(st_customers(st)) == 2
    # a person tells them apart (the same phone on both sides): linked, and the other one is created
    edit(st, "customers", a["id"], contactPhone="(408) 555-0101")
    edit(qbo, "Customer", qid, PrimaryPhone={"FreeFormNumber": "408-555-0101"})
    run_dag(mode="upload")
    names = sorted(c["DisplayName"] for c in qbo_customers(qbo))
    assert names[0] == "Smith Plumbing" and names[1].startswith("Smith Plumbing (ST ") and len(names) == 2
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")
