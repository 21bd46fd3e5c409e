"""End to end: the DAG (dag.test) against both simulators and PostgreSQL. Every scenario ends with a quiet re-run."""

from __future__ import annotations

import psycopg2
import pytest

from tests.e2e.helpers import (
    assert_quiet_rerun,
    by_name,
    clear_logs,
    edit,
    qbo_customer,
    qbo_customers,
    seed_qbo,
    seed_st,
    st_customer,
    st_customers,
)

pytestmark = pytest.mark.e2e


def test_new_customers_flow_both_ways(qbo, st, run_dag) -> None:
    seed_st(st, st_customer("My Company", contactFirstName="Ada", contactLastName="Byron",
                            contactEmail="ada@mycompany.example", contactPhone="(555) 010-2000"))
    seed_qbo(qbo, Customer=[qbo_customer("My QB Company", GivenName="Quinn", FamilyName="Books",
                                         PrimaryEmailAddr={"Address": "quinn@qb.example"})])
    run_dag(mode="sync")
    q = by_name(qbo_customers(qbo), "DisplayName")
    assert q["My Company"]["GivenName"] == "Ada" and q["My Company"]["FamilyName"] == "Byron"
    assert q["My Company"]["PrimaryEmailAddr"]["Address"] == "ada@mycompany.example"
    assert q["My Company"]["PrimaryPhone"]["FreeFormNumber"] == "(555) 010-2000"
    assert q["My Company"]["BillAddr"]["City"] == "Springfield"
    s = by_name(st_customers(st), "name")
    assert s["My QB Company"]["contactFirstName"] == "Quinn"
    assert s["My QB Company"]["contactEmail"] == "quinn@qb.example"
    assert s["My QB Company"]["addressCity"] == "Portland"
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


@pytest.mark.parametrize("mode", ["upload", "download"])
def test_first_upload_or_download_links_same_names_instead_of_duplicating(qbo, st, run_dag, mode) -> None:
    seed_st(st, st_customer("Cool Cars", contactEmail="grace@coolcars.example"),
            st_customer("Amy's Bird Sanctuary"), st_customer("Only In Synchroteam"))
    seed_qbo(qbo, Customer=[qbo_customer("cool cars"), qbo_customer("Amy\u2019s Bird Sanctuary"),
                            qbo_customer("Only In QuickBooks")])
    run_dag(mode=mode, dry_run=True)
    assert qbo.writes() == [] and st.writes() == []
    run_dag(mode=mode)
    q, s = qbo_customers(qbo), st_customers(st)
    if mode == "upload":
        assert sorted(c["DisplayName"] for c in q) == ["Amy\u2019s Bird Sanctuary", "Only In QuickBooks",
                                                      "Only In Synchroteam", "cool cars"]
        assert len(s) == 3
        assert by_name(q, "DisplayName")["cool cars"].get("PrimaryEmailAddr", {}).get("Address") == \
            "grace@coolcars.example"
    else:
        assert len(q) == 3
        assert sorted(c["name"] for c in s) == ["Amy's Bird Sanctuary", "Cool Cars", "Only In QuickBooks",
                                                "Only In Synchroteam"]
    assert_quiet_rerun(run_dag, qbo, st, mode=mode)


def test_dry_run_plan_matches_what_the_real_run_does(qbo, st, run_dag, state_db) -> None:
    seed_st(st, st_customer("Alpha"), st_customer("Beta"))
    seed_qbo(qbo, Customer=[qbo_customer("Gamma")])
    dry = run_dag(mode="sync", dry_run=True)
    assert qbo.writes() == [] and st.writes() == []
    assert qbo_customers(qbo) and len(qbo_customers(qbo)) == 1
    real = run_dag(mode="sync")
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, action, coalesce(st_id::text, qbo_id), status FROM sync.plan "
                    "WHERE action NOT IN ('warning') ORDER BY seq")
        rows = cur.fetchall()
    planned = sorted((a, k) for r, a, k, _ in rows if r == dry.run_id)
    done = sorted((a, k) for r, a, k, s in rows if r == real.run_id and s == "done")
    assert planned == done and len(done) == 3
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_edits_merge_conflicts_follow_the_policy_and_normalisation_does_not_echo(qbo, st, run_dag, state_db) -> None:
    [a] = seed_st(st, st_customer("Harbor Lights", contactEmail="old@harbor.example", contactPhone="555-0100",
                                  contactMobile="555-0101"))
    run_dag(mode="upload")
    qid = by_name(qbo_customers(qbo), "DisplayName")["Harbor Lights"]["Id"]
    # different fields on the two sides merge
    edit(st, "customers", a["id"], contactEmail="new@harbor.example")
    edit(qbo, "Customer", qid, Mobile={"FreeFormNumber": "555-0199"})
    run_dag(mode="sync")
    assert by_name(qbo_customers(qbo), "DisplayName")["Harbor Lights"]["PrimaryEmailAddr"]["Address"] == \
        "new@harbor.example"
    assert by_name(st_customers(st), "name")["Harbor Lights"]["contactMobile"] == "555-0199"
    # the same field on both sides: the newer edit wins (QuickBooks edited last), and the conflict is logged
    edit(st, "customers", a["id"], contactPhone="111-1111")
    qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 120})
    edit(qbo, "Customer", qid, PrimaryPhone={"FreeFormNumber": "222-2222"})
    run_dag(mode="sync")
    assert by_name(st_customers(st), "name")["Harbor Lights"]["contactPhone"] == "222-2222"
    assert by_name(qbo_customers(qbo), "DisplayName")["Harbor Lights"]["PrimaryPhone"]["FreeFormNumber"] == "222-2222"
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT field, st_value, qbo_value, winner FROM audit.conflict")
        assert cur.fetchall() == [("phone", "111-1111", "222-2222", "qbo")]
    # a value QuickBooks normalised (here: reformatted by a person) after our write is not echoed as our change
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_deactivation_both_ways_and_deletion_in_synchroteam(qbo, st, run_dag) -> None:
    a, _b, c = seed_st(st, st_customer("Deact In ST"), st_customer("Deact In QBO"), st_customer("Deleted In ST"))
    run_dag(mode="upload")
    q = by_name(qbo_customers(qbo), "DisplayName")
    edit(st, "customers", a["id"], active=False)
    edit(qbo, "Customer", q["Deact In QBO"]["Id"], Active=False)
    st.admin("DELETE", f"/_sim/customers/{c['id']}").raise_for_status()
    run_dag(mode="download")   # a full read: sees the deletion, but a download never writes to QuickBooks
    assert by_name(st_customers(st), "name")["Deact In QBO"]["active"] is False
    run_dag(mode="upload")     # a full read of Synchroteam: the deletion is seen and mirrored
    q = {c["Id"]: c for c in qbo_customers(qbo)}
    assert q[_id_of(q, "Deact In ST")]["Active"] is False
    assert q[_id_of(q, "Deleted In ST")]["Active"] is False
    assert q[_id_of(q, "Deact In QBO")]["Active"] is False
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def _id_of(customers: dict[str, dict], name: str) -> str:
    for cid, c in customers.items():
        if c["DisplayName"].removesuffix(" (deleted)") == name:
            return cid
    raise AssertionError(f"{name} not in QuickBooks")


def test_awkward_names(qbo, st, run_dag) -> None:
    long_name = "Very Long Name " * 40
    seed_st(st, st_customer("Crème de l'Été Pâtisserie"), st_customer("Acme: North Branch"),
            st_customer(long_name.strip()), st_customer("Smith Plumbing", contactEmail="john@smith.example"),
            st_customer("Smith Plumbing", contactEmail="maria@smith.example"), st_customer("Books by Bessie"))
    seed_qbo(qbo, Vendor=[{"DisplayName": "Books by Bessie"}])
    run_dag(mode="sync")
    names = sorted(c["DisplayName"] for c in qbo_customers(qbo))
    smiths = [n for n in names if n.startswith("Smith Plumbing")]
    assert smiths[0] == "Smith Plumbing" and smiths[1].startswith("Smith Plumbing (ST ")
    assert "Crème de l'Été Pâtisserie" in names
    assert "Acme - North Branch" in names
    assert any(n.startswith("Books by Bessie (ST ") for n in names), names
    assert any(490 < len(n) <= 500 and n.startswith("Very Long Name") for n in names), names
    assert len(names) == 6
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_failure_halfway_then_rerun_leaves_no_duplicate_and_nothing_missing(qbo, st, run_dag, rerun_dag) -> None:
    seed_st(st, *[st_customer(f"Customer {i:02d}") for i in range(12)])
    # the 5th customer create: committed in QuickBooks, reply lost; then every later create fails with 503
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/customer$", "action": "drop_after_commit", "times": 1},
    ]}).raise_for_status()
    first = run_dag(mode="upload")
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/customer$", "action": "error", "status": 400, "times": 0},
    ]}).raise_for_status()
    seed_st(st, st_customer("Late Customer"))
    failed = run_dag(mode="sync", expect="failed")
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()
    rerun_dag(failed)
    names = [c["DisplayName"] for c in qbo_customers(qbo)]
    assert sorted(names) == sorted([f"Customer {i:02d}" for i in range(12)] + ["Late Customer"])
    assert first.run_id != failed.run_id
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_overlapping_runs_do_not_race(qbo, st, run_dag, state_db) -> None:
    from stqbo_store import Scope, tenants
    from stqbo_store import connect as connect_db

    seed_st(st, st_customer("Lease Holder"))
    run_dag(mode="sync")
    conn = connect_db(state_db)
    with conn.cursor() as cur:
        cur.execute("SELECT tenant_id FROM sync.tenant")
        [(tenant_id,)] = cur.fetchall()
    other_run = Scope(conn, tenant_id, "another_run_in_progress")
    assert tenants.take_lease(other_run) is None
    conn.commit()
    clear_logs(qbo, st)
    seed_st(st, st_customer("Must Wait"))
    import stqbo_sync.service as service

    old = service.LEASE_WAIT_SECONDS
    service.LEASE_WAIT_SECONDS = 0.5
    try:
        run_dag(mode="sync", expect="failed")
    finally:
        service.LEASE_WAIT_SECONDS = old
    assert qbo.writes() == [] and st.writes() == []
    tenants.release_lease(other_run)
    conn.commit()
    conn.close()
    run_dag(mode="sync")
    assert "Must Wait" in [c["DisplayName"] for c in qbo_customers(qbo)]


def test_scheduled_runs_wait_for_a_first_run_triggered_by_hand(qbo, st, run_dag, state_db, connections) -> None:
    from stqbo_hooks.quickbooks import QuickBooksHook
    from stqbo_hooks.synchroteam import SynchroteamHook
    from stqbo_sync import service

    def runtime(scheduled: bool) -> service.Runtime:
        return service.Runtime(dsn=state_db, run_id="scheduled__x", qbo=QuickBooksHook().get_conn(),
                               st=SynchroteamHook().get_conn(), scheduled=scheduled)

    assert "first run" in (service.scheduled_run_blocked(runtime(True)) or "")
    assert service.scheduled_run_blocked(runtime(False)) is None
    run_dag(mode="sync", dry_run=True)
    assert service.scheduled_run_blocked(runtime(True)) is not None   # a dry run is not enough
    run_dag(mode="sync")
    assert service.scheduled_run_blocked(runtime(True)) is None


def test_linked_customer_gone_from_synchroteam_is_deactivated_when_next_written(qbo, st, run_dag) -> None:
    [a] = seed_st(st, st_customer("Gone Soon"))
    run_dag(mode="upload")
    qid = by_name(qbo_customers(qbo), "DisplayName")["Gone Soon"]["Id"]
    st.admin("DELETE", f"/_sim/customers/{a['id']}").raise_for_status()
    edit(qbo, "Customer", qid, Notes="called on Monday", PrimaryEmailAddr={"Address": "gone@soon.example"})
    run_dag(mode="sync")   # incremental: only QuickBooks' edit is seen; writing it to Synchroteam finds it gone
    gone = {c["Id"]: c for c in qbo_customers(qbo)}[qid]
    assert gone["Active"] is False and gone["DisplayName"] == "Gone Soon (deleted)"
    assert st_customers(st) == []
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")
