"""End to end against the simulators' real-world defaults (../shared/reference/real-world-facts.md): Synchroteam
answers and filters in the account's local time (S1) and its name look-ups are not exact (S2); QuickBooks' 6240
names nobody and ignores case (Q1), throttles at 10 a second without Retry-After (Q3) and rewrites countries
(Q7). Every scenario ends with a quiet re-run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg2
import pytest

from tests.conftest import ST_API_KEY, ST_DOMAIN
from tests.e2e.helpers import (
    assert_quiet_rerun,
    by_name,
    edit,
    qbo_customer,
    qbo_customers,
    seed_qbo,
    seed_st,
    st_customer,
    st_customers,
)
from tests.e2e.test_invoices import invoice, line, qbo_invoices, run_report

pytestmark = pytest.mark.e2e

WEST, EAST = "America/Los_Angeles", "Asia/Tokyo"


def account_in(st: Any, monkeypatch: pytest.MonkeyPatch, zone: str, configured: str | None = None) -> None:
    """The Synchroteam account lives in ``zone``; its connection says ``configured`` (default: the same)."""
    st.admin("PATCH", "/_sim/account", json={"timezone": zone}).raise_for_status()
    monkeypatch.setenv("AIRFLOW_CONN_SYNCHROTEAM_DEFAULT", json.dumps(
        {"conn_type": "synchroteam", "host": st.url, "login": ST_DOMAIN, "password": ST_API_KEY,
         "extra": {"timezone": configured or zone}}))


def set_st_clock(st: Any, instant: datetime) -> None:
    """Move the Synchroteam simulator's clock to ``instant`` (a person's edit then carries that time)."""
    now = datetime.fromisoformat(st.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))
    st.admin("POST", "/_sim/clock", json={"advance_seconds": (instant - now).total_seconds()}).raise_for_status()


def advance(sim: Any, seconds: int) -> None:
    sim.admin("POST", "/_sim/clock", json={"advance_seconds": seconds}).raise_for_status()


def set_watermarks(state_db: str, value: datetime) -> None:
    """As if the last run had read Synchroteam up to ``value``."""
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sync.watermark SET value=%s WHERE side='st'", (value.isoformat(),))
        assert cur.rowcount == 2   # customers and invoices


def _qbo_invoice_amounts(qbo: Any) -> list[float]:
    return sorted(float(i["TotalAmt"]) for i in qbo_invoices(qbo))


@pytest.mark.parametrize("zone", [WEST, EAST])
def test_edits_in_synchroteam_reach_quickbooks_in_any_zone(qbo, st, run_dag, monkeypatch, zone) -> None:
    account_in(st, monkeypatch, zone)
    seed_st(st, st_customer("Zone Co", contactEmail="old@zone.example"),
            invoices=[invoice(501, "Zone Co", line(None, 1, 100, description="Visit"))])
    run_dag(mode="sync")
    assert _qbo_invoice_amounts(qbo) == [100.0]
    [customer] = st_customers(st)
    edit(st, "customers", customer["id"], contactEmail="new@zone.example")
    edit(st, "invoices", 501, lines=[line(None, 2, 100, description="Two visits")])
    run_dag(mode="sync")
    assert by_name(qbo_customers(qbo), "DisplayName")["Zone Co"]["PrimaryEmailAddr"]["Address"] == "new@zone.example"
    assert _qbo_invoice_amounts(qbo) == [200.0]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_an_edit_in_the_repeated_hour_of_a_dst_change_reaches_quickbooks(qbo, st, run_dag, monkeypatch,
                                                                         state_db) -> None:
    """Los Angeles, 1 November 2026: 01:00-02:00 happens twice. The last run read up to 01:20 PDT (first pass);
    a person then edits a customer and an invoice at 01:30 PDT. The filter "since 01:18" could be read as PST, an
    hour later: the connector must ask from before the repeated hour to find both edits."""
    account_in(st, monkeypatch, WEST)
    seed_st(st, st_customer("Fall Back Co", contactEmail="old@fallback.example"),
            invoices=[invoice(601, "Fall Back Co", line(None, 1, 80, description="Visit"))])
    run_dag(mode="sync")
    set_st_clock(st, datetime(2026, 11, 1, 8, 30, tzinfo=UTC))           # 01:30 PDT
    [customer] = st_customers(st)
    edited = edit(st, "customers", customer["id"], contactEmail="new@fallback.example")
    assert edited["dateModified"].startswith("2026-11-01 01:30")
    edit(st, "invoices", 601, lines=[line(None, 3, 80, description="Three visits")])
    set_watermarks(state_db, datetime(2026, 11, 1, 8, 20, tzinfo=UTC))   # 01:20 PDT
    run_dag(mode="sync")
    q = by_name(qbo_customers(qbo), "DisplayName")["Fall Back Co"]
    assert q["PrimaryEmailAddr"]["Address"] == "new@fallback.example"
    assert _qbo_invoice_amounts(qbo) == [240.0]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


@pytest.mark.parametrize("zone", [WEST, EAST])
@pytest.mark.parametrize("newer", ["synchroteam", "quickbooks"])
def test_newer_edit_wins_across_zones(qbo, st, run_dag, monkeypatch, zone, newer) -> None:
    """Both sides change the same field; the one edited five minutes later wins, whatever the account's zone (a
    connector that read Synchroteam's local time as UTC would make Los Angeles edits look 8 hours older and
    Tokyo edits 9 hours newer)."""
    account_in(st, monkeypatch, zone)
    seed_st(st, st_customer("Race Co", contactEmail="base@race.example"))
    run_dag(mode="sync")
    [st_rec] = st_customers(st)
    [qbo_rec] = qbo_customers(qbo)
    first, second = (qbo, st) if newer == "synchroteam" else (st, qbo)
    for sim in (first, second):
        if sim is st:
            edit(st, "customers", st_rec["id"], contactEmail="st@race.example")
        else:
            edit(qbo, "Customer", qbo_rec["Id"], PrimaryEmailAddr={"Address": "qbo@race.example"})
        if sim is first:
            advance(second, 300)
    run_dag(mode="sync")
    winner = "st@race.example" if newer == "synchroteam" else "qbo@race.example"
    assert by_name(qbo_customers(qbo), "DisplayName")["Race Co"]["PrimaryEmailAddr"]["Address"] == winner
    assert by_name(st_customers(st), "name")["Race Co"]["contactEmail"] == winner
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_smith_and_smith_plumbing_stay_two_customers(qbo, st, run_dag) -> None:
    """Synchroteam's `details?name=Smith` answers "Smith Plumbing" (a prefix): a Download that creates "Smith"
    must not adopt, link and rename "Smith Plumbing"."""
    seed_st(st, st_customer("Smith Plumbing"))
    seed_qbo(qbo, Customer=[qbo_customer("Smith")])
    run_dag(mode="download")
    assert sorted(c["name"] for c in st_customers(st)) == ["Smith", "Smith Plumbing"]
    run_dag(mode="sync")
    assert sorted(c["name"] for c in st_customers(st)) == ["Smith", "Smith Plumbing"]
    assert sorted(c["DisplayName"] for c in qbo_customers(qbo)) == ["Smith", "Smith Plumbing"]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_a_wrong_time_zone_option_is_caught_and_holds_reads_until_fixed(qbo, st, run_dag, monkeypatch,
                                                                       state_db) -> None:
    """The account is in Tokyo, its connection says New York. The first write to Synchroteam shows the account's
    clock 13 or 14 hours off: the run is red with a plain message, later runs stop before reading, and fixing
    the option lets them go on."""
    account_in(st, monkeypatch, EAST, configured="America/New_York")
    seed_qbo(qbo, Customer=[qbo_customer("Tokyo Client")])
    failed = run_dag(mode="sync", expect="failed")
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, field, message FROM audit.record_error WHERE run_id=%s", (failed.run_id,))
        [(code, field, message)] = cur.fetchall()
    assert (code, field) == ("timezone_mismatch", "timezone")
    assert "UTC+09:00" in message and "America/New_York" in message
    st.admin("DELETE", "/_sim/requests")
    run_dag(mode="sync", expect="failed")
    assert [r for r in st.requests_log() if "/api/v3/" in r["path"]] == []   # held: not one Synchroteam call
    account_in(st, monkeypatch, EAST)
    run_dag(mode="sync")
    assert [c["name"] for c in st_customers(st)] == ["Tokyo Client"]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")



def test_an_unlinked_upper_case_namesake_in_quickbooks_is_adopted_not_doubled(qbo, st, run_dag) -> None:
    """QuickBooks holds an unlinked "ACME CORP" (an Upload does not bring QuickBooks-only customers over); a new
    "Acme Corp" in Synchroteam is planned as a create, QuickBooks refuses the name (6240, no Id, case ignored),
    and the connector finds the holder itself and links it: one customer in the books, not "Acme Corp (ST 1)"."""
    seed_qbo(qbo, Customer=[qbo_customer("ACME CORP")])
    seed_st(st, st_customer("Other Co"))
    run_dag(mode="upload")
    seed_st(st, st_customer("Acme Corp", contactEmail="ap@acme.example"))
    run_dag(mode="sync")
    q = qbo_customers(qbo)
    assert sorted(c["DisplayName"] for c in q) == ["ACME CORP", "Other Co"]
    assert by_name(q, "DisplayName")["ACME CORP"]["PrimaryEmailAddr"]["Address"] == "ap@acme.example"
    assert sorted(c["name"] for c in st_customers(st)) == ["Acme Corp", "Other Co"]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_sixty_customers_and_invoices_land_once_under_the_real_limits(qbo, st, run_dag, state_db) -> None:
    """10 a second, 500 a minute, 10 concurrent, 40 batches a minute, 429s without Retry-After: every record
    lands once, no record error."""
    limits = qbo.admin("GET", "/_sim/limits").json()
    assert limits["requests_per_second"] == 10 and limits["requests_per_minute"] == 500
    names = [f"Batch Customer {i:02d}" for i in range(60)]
    seed_st(st, *[st_customer(n) for n in names],
            invoices=[invoice(900 + i, n, line(None, 1, 10 + i, description="Work")) for i, n in enumerate(names)])
    run = run_dag(mode="sync")
    assert sorted(c["DisplayName"] for c in qbo_customers(qbo)) == names
    assert len(qbo_invoices(qbo)) == 60
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.record_error WHERE run_id=%s", (run.run_id,))
        assert cur.fetchone() == (0,)
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_a_country_spelled_united_states_stays_so_in_synchroteam(qbo, st, run_dag) -> None:
    """QuickBooks stores "USA" for "United States" (Q7); Synchroteam keeps its spelling through three runs."""
    seed_st(st, st_customer("Spelling Co", addressCountry="United States"))
    for _ in range(3):
        run_dag(mode="sync")
        assert [c["addressCountry"] for c in st_customers(st)] == ["United States"]
    assert by_name(qbo_customers(qbo), "DisplayName")["Spelling Co"]["BillAddr"]["Country"] == "USA"
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_invoice_statuses_outside_the_option_are_named_once_and_partly_paid_ones_pushed(qbo, st, run_dag,
                                                                                      state_db) -> None:
    seed_st(st, st_customer("Status Co"), invoices=[
        invoice(701, "Status Co", line(None, 1, 50, description="a"), status="partially paid"),
        invoice(702, "Status Co", line(None, 1, 60, description="b"), status="cancelled")])
    first = run_dag(mode="sync")
    assert _qbo_invoice_amounts(qbo) == [50.0]
    assert "not pushed: unknown status 'cancelled'" in run_report(state_db, first.run_id)
    edit(st, "invoices", 702, description="still cancelled")   # read again by the change read
    second = run_dag(mode="sync")
    assert "unknown status" not in run_report(state_db, second.run_id)   # named once per invoice
    assert _qbo_invoice_amounts(qbo) == [50.0]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_a_voided_invoice_keeps_its_identity_and_is_never_recreated(qbo, st, run_dag, state_db) -> None:
    """Voiding replaces QuickBooks' PrivateNote (our marker) with "Voided" (Q8): the ledger still knows the
    invoice, so a later edit in Synchroteam is reported, not written, and no second invoice appears."""
    from stqbo_hooks.quickbooks import QuickBooksHook

    seed_st(st, st_customer("Void Co"), invoices=[invoice(801, "Void Co", line(None, 1, 70, description="x"))])
    run_dag(mode="sync")
    [pushed] = qbo_invoices(qbo)
    voided = QuickBooksHook().get_conn().void_invoice(pushed["Id"], pushed["SyncToken"], "test-void-801")
    assert voided["PrivateNote"] == "Voided"
    edit(st, "invoices", 801, lines=[line(None, 2, 70, description="x")])
    run = run_dag(mode="sync")
    [still] = qbo_invoices(qbo)
    assert still["Id"] == pushed["Id"] and float(still["TotalAmt"]) == 0.0 and still["PrivateNote"] == "Voided"
    assert "voided" in run_report(state_db, run.run_id).lower()
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT qbo_id, state FROM ledger.invoice WHERE st_id=801")
        assert cur.fetchall() == [(pushed["Id"], "voided_in_qbo")]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_the_daily_full_read_catches_an_invoice_change_the_change_read_missed(qbo, st, run_dag, state_db) -> None:
    seed_st(st, st_customer("Missed Co"), invoices=[invoice(901, "Missed Co", line(None, 1, 40, description="x"))])
    run_dag(mode="sync")
    edit(st, "invoices", 901, lines=[line(None, 3, 40, description="x")])
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:   # the change read will not see the edit
        cur.execute("UPDATE sync.watermark SET value=%s WHERE side='st' AND entity='invoice'",
                    (datetime(2099, 1, 1, tzinfo=UTC).isoformat(),))
    run_dag(mode="sync")
    assert _qbo_invoice_amounts(qbo) == [40.0]          # missed, as a change read would
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:   # a day later: the full read is due
        cur.execute("UPDATE sync.run_extract SET extracted_at = extracted_at - interval '25 hours'")
    run_dag(mode="sync")
    assert _qbo_invoice_amounts(qbo) == [120.0]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")
