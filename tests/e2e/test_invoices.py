"""End to end: Synchroteam invoices reach QuickBooks once and only once (the DAG against both simulators and
PostgreSQL). Every scenario ends with a quiet re-run; QuickBooks invoices are counted per Synchroteam invoice."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

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
)

pytestmark = pytest.mark.e2e
MARKER = re.compile(r"Synchroteam invoice (\d+)\b")
NY = {"name": "NY", "rate": 8.875}


@pytest.fixture(autouse=True)
def unlimited(qbo: Any, st: Any) -> Iterator[None]:
    """Server-side rate limits off while these scenarios run (many DAG runs a minute), restored afterwards."""
    saved_q = qbo.admin("GET", "/_sim/limits").json()
    saved_s = st.admin("GET", "/_sim/limits").json()
    qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "concurrent": 0, "batch_per_minute": 0})
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 0})
    yield
    qbo.admin("POST", "/_sim/limits", json={k: saved_q[k] for k in ("requests_per_minute", "concurrent",
                                                                    "batch_per_minute") if k in saved_q})
    st.admin("POST", "/_sim/limits", json={k: saved_s[k] for k in ("requests_per_minute", "daily_quota")
                                           if k in saved_s})


def line(code: str | None, qty: Any, price: Any, discount: Any = 0, tax: dict[str, Any] | None = None,
         description: str | None = None) -> dict[str, Any]:
    return {"partProductCode": code, "description": description, "quantity": qty, "unitPrice": price,
            "discount": discount, "tax": tax}


def invoice(inv_id: int, customer: str, *lines: dict[str, Any], status: str = "sent", num: int | None = None,
            **extra: Any) -> dict[str, Any]:
    body = {"id": inv_id, "customer": {"name": customer}, "status": status, "lines": list(lines),
            "description": f"Job for {customer}", **extra}
    if num is not None:
        body["num"] = num
    return body


def qbo_invoices(qbo: Any) -> list[dict[str, Any]]:
    return list(qbo.admin("GET", "/_sim/state").json().get("Invoice", []))


def by_st_id(qbo: Any) -> dict[int, dict[str, Any]]:
    """QuickBooks invoices by the Synchroteam id in their marker; exactly one each, or the test fails."""
    out: dict[int, dict[str, Any]] = {}
    for inv in qbo_invoices(qbo):
        found = MARKER.search(inv.get("PrivateNote") or "")
        assert found, f"QuickBooks invoice {inv['Id']} has no Synchroteam marker"
        st_id = int(found.group(1))
        assert st_id not in out, f"Synchroteam invoice {st_id} is in QuickBooks twice: {out[st_id]['Id']}, {inv['Id']}"
        out[st_id] = inv
    return out


def st_invoices(st: Any) -> dict[int, dict[str, Any]]:
    return {int(i["id"]): i for i in st.admin("GET", "/_sim/state").json()["invoices"]}


def assert_totals_equal(qbo: Any, st: Any) -> None:
    """QuickBooks' TotalAmt equals Synchroteam's total to the cent for every pushed invoice."""
    s = st_invoices(st)
    for st_id, q in by_st_id(qbo).items():
        assert Decimal(str(q["TotalAmt"])) == Decimal(str(s[st_id]["total"])), (st_id, q["TotalAmt"], s[st_id])


def run_rows(state_db: str, run_id: str) -> dict[str, dict[str, Any]]:
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT st_number, qbo_docnumber, action, status, note FROM ledger.invoice_run WHERE run_id=%s",
                    (run_id,))
        return {str(r[0]): {"docnumber": r[1], "action": r[2], "status": r[3], "note": r[4]} for r in cur.fetchall()}


def run_report(state_db: str, run_id: str) -> str:
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT report FROM audit.run WHERE run_id=%s", (run_id,))
        return str(cur.fetchone()[0])


def set_qbo_option(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    conn = json.loads(os.environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"])
    conn["extra"].update(extra)
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_DEFAULT", json.dumps(conn))


def set_custom_numbers(qbo: Any, on: bool) -> None:
    qbo.admin("PATCH", "/_sim/preferences", json={"SalesFormsPrefs": {"CustomTxnNumbers": on}}).raise_for_status()


# ----------------------------------------------------------------------------------------------- the US life cycle


def test_us_invoices_customers_items_drafts_edits_payments_and_deletions(qbo, st, run_dag, state_db) -> None:
    seed_qbo(qbo, Customer=[qbo_customer("Known Co")],
             Item=[{"Name": "Copper pipe", "Type": "NonInventory", "IncomeAccountRef": {"value": "2"}}])
    seed_st(st, st_customer("New Co"), st_customer("Known Co"),
            parts=[{"reference": "SVC-HOUR", "name": "Labour hour", "price": "85.00", "type": "service"},
                   {"reference": "PIPE", "name": "Copper pipe", "price": "12.50", "type": "part"}],
            invoices=[
                invoice(101, "New Co", line("SVC-HOUR", 2, 85, discount=10, tax=NY, description="Labour"),
                        line("PIPE", 3, 12.5, description="Pipe"), line(None, 0, 0, description="Thank you!"),
                        num=1042),
                invoice(102, "Known Co", line("PIPE", 1, 19.99, discount=15, tax=NY), num=1043),
                invoice(103, "Known Co", line("SVC-HOUR", 1, 85), status="draft"),
            ])
    first = run_dag(mode="sync")

    customers = by_name(qbo_customers(qbo), "DisplayName")
    pushed = by_st_id(qbo)
    assert sorted(pushed) == [101, 102], "the draft waits for its number"
    assert pushed[101]["CustomerRef"]["value"] == customers["New Co"]["Id"]
    assert pushed[102]["CustomerRef"]["value"] == customers["Known Co"]["Id"]
    log = [r for r in qbo.requests_log() if r["method"] == "POST"]
    first_customer = next(i for i, r in enumerate(log) if r["path"].endswith("/customer"))
    first_invoice = next(i for i, r in enumerate(log) if r["path"].endswith(("/invoice", "/batch")))
    assert first_customer < first_invoice, "the new customer is created before its invoice"
    assert_totals_equal(qbo, st)

    lines = pushed[101]["Line"]
    assert [ln["DetailType"] for ln in lines if ln["DetailType"] != "SubTotalLineDetail"] == [
        "SalesItemLineDetail", "SalesItemLineDetail", "DescriptionOnly"]
    assert lines[0]["Amount"] == 153.0 and "discount 10%" in lines[0]["Description"]
    assert lines[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX"
    assert lines[1]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "NON"
    assert lines[2]["Description"] == "Thank you!"
    items = by_name(qbo.admin("GET", "/_sim/state").json()["Item"], "Name")
    assert sorted(items) == ["Copper pipe", "SVC-HOUR"], "unknown part -> new item; known part reused"
    assert items["SVC-HOUR"]["Type"] == "Service" and items["SVC-HOUR"]["Sku"] == "SVC-HOUR"
    assert lines[1]["SalesItemLineDetail"]["ItemRef"]["value"] == items["Copper pipe"]["Id"]
    assert {pushed[101]["DocNumber"], pushed[102]["DocNumber"]} == {"1001", "1002"}, "QuickBooks numbers them"
    rows = run_rows(state_db, first.run_id)
    assert rows["1042"]["status"] == rows["1043"]["status"] == "pushed"
    assert any(r["status"] == "skipped" and "draft" in r["note"] for r in rows.values())
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")

    # edits: 102 changed in Synchroteam, the draft gets its number, 101 is paid in QuickBooks and then edited
    edit(st, "invoices", 102, lines=[line("PIPE", 4, 19.99, discount=15, tax=NY)])
    edit(st, "invoices", 103, status="new")
    edit(qbo, "Invoice", pushed[101]["Id"], Balance=0)
    edit(st, "invoices", 101, lines=[line("SVC-HOUR", 5, 85, tax=NY)])
    second = run_dag(mode="sync")
    after = by_st_id(qbo)
    assert sorted(after) == [101, 102, 103]
    assert after[102]["Id"] == pushed[102]["Id"] and after[102]["TotalAmt"] == st_invoices(st)[102]["total"]
    assert after[101]["TotalAmt"] == pushed[101]["TotalAmt"] and after[101]["SyncToken"] == "1", \
        "a paid invoice is not rewritten"
    rows = run_rows(state_db, second.run_id)
    num_103 = str(st_invoices(st)[103]["num"])
    assert (rows["1043"]["status"], rows[num_103]["status"]) == ("updated", "pushed")
    assert rows["1042"]["status"] == "skipped" and "payment" in rows["1042"]["note"]
    assert "1042" in run_report(state_db, second.run_id)
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")

    # a person deletes 103 in QuickBooks, then it changes in Synchroteam: reported, not re-created
    qbo.admin("DELETE", f"/_sim/Invoice/{after[103]['Id']}").raise_for_status()
    edit(st, "invoices", 103, lines=[line("SVC-HOUR", 2, 85)])
    third = run_dag(mode="sync")
    assert sorted(by_st_id(qbo)) == [101, 102]
    assert "deleted in QuickBooks" in run_rows(state_db, third.run_id)[num_103]["note"]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


# ----------------------------------------------------------------------------------------------- numbering, non-US


def test_non_us_company_with_synchroteam_numbers(qbo, st, run_dag, state_db, monkeypatch) -> None:
    qbo.admin("PATCH", "/_sim/preferences", json={"simulator": {"country": "GB"},
                                                  "SalesFormsPrefs": {"CustomTxnNumbers": True}}).raise_for_status()
    seed_qbo(qbo, TaxRate=[{"Id": "10", "Name": "VAT 20", "RateValue": 20}, {"Id": "11", "Name": "VAT 5",
                                                                          "RateValue": 5},
                           {"Id": "12", "Name": "Zero", "RateValue": 0}],
             TaxCode=[{"Id": "20", "Name": "20.0% S", "SalesTaxRateList": {"TaxRateDetail": [
                 {"TaxRateRef": {"value": "10"}}]}},
                      {"Id": "21", "Name": "5.0% R", "SalesTaxRateList": {"TaxRateDetail": [
                          {"TaxRateRef": {"value": "11"}}]}},
                      {"Id": "22", "Name": "0.0% Z", "SalesTaxRateList": {"TaxRateDetail": [
                          {"TaxRateRef": {"value": "12"}}]}}])
    set_qbo_option(monkeypatch, use_synchroteam_invoice_numbers=True)
    vat, reduced = {"name": "VAT", "rate": 20}, {"name": "Reduced", "rate": 5}
    seed_st(st, st_customer("London Ltd"),
            parts=[{"reference": "SVC-HOUR", "name": "Labour hour", "price": "85.00", "type": "service"}],
            invoices=[invoice(201, "London Ltd", line("SVC-HOUR", 2, 85, discount=10, tax=vat),
                              line("BOILER", 3, 19.99, discount=15, tax=reduced), line("SVC-HOUR", 1, 10),
                              num=5001, currency="GBP"),
                      invoice(202, "London Ltd", line("SVC-HOUR", 7, 33.33, tax=vat), num=5002, currency="GBP")])
    run_dag(mode="sync")
    pushed = by_st_id(qbo)
    assert {pushed[201]["DocNumber"], pushed[202]["DocNumber"]} == {"5001", "5002"}
    assert pushed[201]["GlobalTaxCalculation"] == "TaxExcluded"
    codes = [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in pushed[201]["Line"]
             if ln["DetailType"] == "SalesItemLineDetail"]
    assert codes == ["20", "21", "22"]
    assert_totals_equal(qbo, st)
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


@pytest.mark.parametrize(
    ("use_numbers", "custom", "docnumber", "note"),
    [
        pytest.param(True, False, "1001", "custom transaction numbers are off", id="option-on-custom-off"),
        pytest.param(False, True, None, "leaves the invoice number", id="option-off-custom-on"),
    ],
)
def test_invoice_numbers_when_settings_disagree(qbo, st, run_dag, state_db, monkeypatch, use_numbers, custom,
                                                docnumber, note) -> None:
    set_custom_numbers(qbo, custom)
    set_qbo_option(monkeypatch, use_synchroteam_invoice_numbers=use_numbers)
    seed_st(st, st_customer("Numbered Co"), invoices=[invoice(301, "Numbered Co", line(None, 1, 40,
                                                                                       description="Call-out"),
                                                              num=7001)])
    dr = run_dag(mode="sync")
    assert by_st_id(qbo)[301].get("DocNumber") == docnumber
    assert note in run_report(state_db, dr.run_id)
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


# ----------------------------------------------------------------------------------------------- exactly once


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"action": "drop_after_commit", "times": 1}, id="drop-after-commit"),
        pytest.param({"action": "timeout", "delay": 0.2, "times": 1}, id="timeout"),
        pytest.param({"action": "error", "status": 503, "times": 2}, id="503"),
        pytest.param({"action": "drop_after_commit", "times": 0}, id="reply-always-lost"),
    ],
)
@pytest.mark.parametrize("count", [1, 3], ids=["single-create", "batch"])
def test_faults_on_invoice_creation_never_duplicate(qbo, st, run_dag, state_db, fault, count) -> None:
    seed_qbo(qbo, Customer=[qbo_customer("Fault Co"), qbo_customer("Other Co")])
    seed_st(st, st_customer("Fault Co"), st_customer("Other Co"),
            invoices=[invoice(400 + i, "Fault Co" if i % 2 else "Other Co", line(None, i + 1, 10,
                                                                                  description="Work"),
                              num=8000 + i) for i in range(count)])
    if fault["action"] == "error":      # once is enough: a dry run first writes nothing anywhere
        run_dag(mode="sync", dry_run=True)
        assert qbo_invoices(qbo) == [] and qbo.writes() == []
        with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM ledger.invoice) + (SELECT count(*) FROM mapping.item_link)")
            assert cur.fetchone()[0] == 0, "a dry run leaves the ledger and item links as they were"
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/v3/company/[^/]+/(invoice|batch)$", **fault}]}).raise_for_status()
    run_dag(mode="sync")
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()
    assert sorted(by_st_id(qbo)) == [400 + i for i in range(count)]
    assert_totals_equal(qbo, st)
    clear_logs(qbo, st)
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_invoice_of_a_customer_that_failed_is_retried_next_run(qbo, st, run_dag, state_db) -> None:
    seed_st(st, st_customer("Refused Co"), invoices=[invoice(501, "Refused Co", line(None, 1, 10,
                                                                                      description="x"), num=9001)])
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/customer$", "action": "error", "status": 400, "times": 0}]}).raise_for_status()
    failed = run_dag(mode="sync", expect="failed")
    assert qbo_invoices(qbo) == []
    with psycopg2.connect(state_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT code FROM audit.record_error WHERE run_id=%s AND entity='invoice'", (failed.run_id,))
        assert [r[0] for r in cur.fetchall()] == ["customer_not_synced"]
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()
    run_dag(mode="sync")
    assert sorted(by_st_id(qbo)) == [501]
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")


def test_edited_invoices_are_updated_in_one_batch_even_when_the_reply_is_lost(qbo, st, run_dag, state_db) -> None:
    seed_st(st, st_customer("Batch Co"),
            invoices=[invoice(600 + i, "Batch Co", line(None, 1, 10 + i, description="Visit"), num=6000 + i)
                      for i in range(3)])
    run_dag(mode="sync")
    before = by_st_id(qbo)
    for i in range(3):
        edit(st, "invoices", 600 + i, lines=[line(None, 2, 10 + i, tax=NY, description="Two visits")])
    clear_logs(qbo, st)
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/batch$", "action": "drop_after_commit", "times": 1}]}).raise_for_status()
    dr = run_dag(mode="sync")
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()
    after = by_st_id(qbo)
    assert {k: v["Id"] for k, v in after.items()} == {k: v["Id"] for k, v in before.items()}
    assert all(v["SyncToken"] == "1" for v in after.values()), "each invoice updated exactly once"
    assert_totals_equal(qbo, st)
    writes = [r["path"].rsplit("/", 1)[-1] for r in qbo.writes()]
    assert writes == ["batch", "batch"], f"one batch request (plus the retry of the lost reply): {writes}"
    assert {r["status"] for r in run_rows(state_db, dr.run_id).values()} == {"updated"}
    assert_quiet_rerun(run_dag, qbo, st, mode="sync")
