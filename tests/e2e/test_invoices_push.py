"""`service.plan_and_push_invoices` called directly (no Airflow) against both simulators and PostgreSQL, for the
paths a DAG run cannot steer: a stale SyncToken inside a batch, adopting an older version found by its marker,
duplicate markers, a total QuickBooks computes differently, an item deactivated behind our back, and modes without
invoices."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from devenv.sims import ST_TIMEZONE
from stqbo_api.errors import RetriableApiError, ValidationError
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import QuickBooksClient
from stqbo_api.synchroteam import SynchroteamClient
from stqbo_api.tokens import TokenStore
from stqbo_api.transport import PER_SECOND_WINDOW, RealmLimits, RetryPolicy, SlidingWindowLimiter
from stqbo_store import Scope, audit, migrate, staging, tenants
from stqbo_store import connect as connect_db
from stqbo_store import ledger as ledger_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import service
from stqbo_sync.types import Mode, RunContext
from tests.e2e.helpers import clear_logs, edit, qbo_customer, seed_qbo, seed_st, st_customer
from tests.e2e.test_invoices import by_st_id, invoice, line, unlimited  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.e2e
FAST = RetryPolicy(backoff_base=0.01, sleep=lambda s: None)


def roomy() -> RealmLimits:
    """Private client-side limits: the process-wide per-realm budget is shared with every other test."""
    return RealmLimits(requests=SlidingWindowLimiter(1_000_000), batches=SlidingWindowLimiter(1_000_000),
                       per_second=SlidingWindowLimiter(10, window=PER_SECOND_WINDOW))   # QuickBooks: 10 a second


@pytest.fixture()
def env(qbo: Any, st: Any, qbo_grant: dict[str, str], state_db: str) -> Iterator[dict[str, Any]]:
    """Clients on both simulators, a migrated state DB with one tenant, and a `push` that stages then pushes."""
    q = QuickBooksClient(qbo.url, qbo_grant["realm_id"], "demo-client", "demo-secret",
                         TokenStore(state_db, "demo-secret"), qbo.url + "/oauth2/v1/tokens/bearer",
                         initial_refresh_token=qbo_grant["refresh_token"], retry_policy=FAST, limits=roomy())
    s = SynchroteamClient(st.url, "demo", "demo-api-key", retry_policy=FAST, timezone=ST_TIMEZONE)
    conn = connect_db(state_db)
    migrate.migrate(conn)
    tenant = tenants.ensure_tenant(conn, "demo", q.realm_id, "sandbox", qbo.url)
    conn.commit()

    def link(st_name: str, qbo_name: str) -> None:
        st_id = next(c["id"] for c in st.admin("GET", "/_sim/state").json()["customers"] if c["name"] == st_name)
        qbo_id = next(c["Id"] for c in qbo.admin("GET", "/_sim/state").json()["Customer"]
                      if c["DisplayName"] == qbo_name)
        mapping_db.add_link(Scope(conn, tenant, "setup"), int(st_id), str(qbo_id), "match")
        conn.commit()

    def push(run_id: str, mode: str = "sync", **options: Any) -> dict[str, Any]:
        staged = [(int(i["id"]), i) for i in st.admin("GET", "/_sim/state").json()["invoices"]]
        ctx = RunContext(conn, tenant, run_id, Mode(mode))
        staging.replace(ctx, "st_invoice", staged)
        conn.commit()
        return service.plan_and_push_invoices(ctx, q, s, QuickBooksOptions.from_extra(options))

    def errors(run_id: str) -> list[tuple[str, str]]:
        return [(e["code"], e["message"]) for e in audit.record_errors(Scope(conn, tenant, run_id))]

    yield {"conn": conn, "tenant": tenant, "link": link, "push": push, "errors": errors, "qbo_client": q}
    conn.close()


def seed_pair(qbo: Any, st: Any, env: dict[str, Any], *invoices_: dict[str, Any]) -> None:
    seed_qbo(qbo, Customer=[qbo_customer("Pair Co")])
    seed_st(st, st_customer("Pair Co"), invoices=list(invoices_))
    env["link"]("Pair Co", "Pair Co")


def test_stale_sync_token_in_a_batch_is_retried_alone(qbo, st, env) -> None:
    seed_pair(qbo, st, env, *[invoice(700 + i, "Pair Co", line(None, 1, 10, description="a"), num=7000 + i)
                              for i in range(2)])
    assert env["push"]("r1") == {"pushed": 2}
    for i in range(2):
        edit(st, "invoices", 700 + i, lines=[line(None, 3, 10, description="b")])
    first = by_st_id(qbo)
    client: QuickBooksClient = env["qbo_client"]
    real_batch = client.batch

    def batch_after_a_person_edits(items: list[dict[str, Any]], request_id_prefix: str | None = None) -> Any:
        edit(qbo, "Invoice", first[700]["Id"], CustomerMemo={"value": "edited by a person"})
        client.batch = real_batch  # type: ignore[method-assign]
        return real_batch(items, request_id_prefix)

    client.batch = batch_after_a_person_edits  # type: ignore[method-assign]
    assert env["push"]("r2") == {"updated": 2}
    after = by_st_id(qbo)
    assert [after[700]["SyncToken"], after[701]["SyncToken"]] == ["2", "1"]
    assert after[700]["TotalAmt"] == after[701]["TotalAmt"] == 30.0
    assert env["errors"]("r2") == []
    ledger = {i: ledger_db.get(Scope(env["conn"], env["tenant"], ""), i) for i in (700, 701)}
    assert ledger[701]["request_id"].startswith("stqbo-b-") and ledger[701]["request_id"].endswith("-0")
    assert ledger[700]["request_id"].startswith("stqbo-u"), "the stale one went again on its own"
    assert ledger[700]["request_id"] != ledger[701]["request_id"]


def test_an_older_version_found_by_its_marker_is_adopted_and_updated(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(710, "Pair Co", line(None, 2, 25, description="Visit"), num=7100))
    customer_id = qbo.admin("GET", "/_sim/state").json()["Customer"][0]["Id"]
    seed_qbo(qbo, Item=[{"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": "1"}}])
    [earlier] = seed_qbo(qbo, Invoice=[{"CustomerRef": {"value": customer_id},
                                        "PrivateNote": "Synchroteam invoice 710 v:00000000",
                                        "Line": [{"Amount": 5.0, "DetailType": "SalesItemLineDetail",
                                                  "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}])["Invoice"]
    clear_logs(qbo)
    assert env["push"]("r1") == {"updated": 1}
    pushed = by_st_id(qbo)
    assert pushed[710]["Id"] == earlier["Id"] and len(qbo.admin("GET", "/_sim/state").json()["Invoice"]) == 1
    assert pushed[710]["TotalAmt"] == 50.0 and pushed[710]["SyncToken"] == "1"
    assert [r["path"].rsplit("/", 1)[-1] for r in qbo.writes()] == ["invoice"], "one write: the update"
    rows = ledger_db.run_rows(Scope(env["conn"], env["tenant"], "r1"))
    assert rows[0]["note"].startswith("already in QuickBooks")


def test_duplicate_markers_are_reported_and_the_first_kept(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(720, "Pair Co", line(None, 1, 10, description="x"), num=7200))
    customer_id = qbo.admin("GET", "/_sim/state").json()["Customer"][0]["Id"]
    seed_qbo(qbo, Item=[{"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": "1"}}])
    twin = {"CustomerRef": {"value": customer_id}, "PrivateNote": "Synchroteam invoice 720 v:00000000",
            "Line": [{"Amount": 10.0, "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}
    seed_qbo(qbo, Invoice=[twin, twin])
    env["push"]("r1")
    assert [code for code, _ in env["errors"]("r1")] == ["duplicate_marker"]
    ledger = ledger_db.get(Scope(env["conn"], env["tenant"], ""), 720)
    assert ledger is not None and ledger["qbo_id"] == min((i["Id"] for i in qbo.admin("GET", "/_sim/state").json()
                                                           ["Invoice"]), key=int)


def test_a_total_quickbooks_computes_differently_is_an_error(qbo, st, env) -> None:
    qbo.admin("PATCH", "/_sim/preferences", json={"TaxPrefs": {"UsingSalesTax": False}}).raise_for_status()
    seed_pair(qbo, st, env, invoice(730, "Pair Co", line(None, 1, 100, tax={"name": "NY", "rate": 8.875},
                                                         description="x"), num=7300))
    assert env["push"]("r1") == {"pushed": 1}
    [(code, message)] = env["errors"]("r1")
    assert code == "total_mismatch" and "100.00" in message and "108.88" in message
    assert Decimal(str(by_st_id(qbo)[730]["TotalAmt"])) == Decimal("100")
    assert env["push"]("r2") == {"unchanged": 1} and env["errors"]("r2") == []


def test_an_item_deactivated_in_quickbooks_is_resolved_again(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(740, "Pair Co", line("VALVE", 1, 30, description="Valve"), num=7400))
    assert env["push"]("r1") == {"pushed": 1}
    item_id = by_st_id(qbo)[740]["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    qbo.admin("DELETE", f"/_sim/Item/{item_id}").raise_for_status()
    edit(st, "invoices", 740, lines=[line("VALVE", 2, 30, description="Valves")])
    assert env["push"]("r2") == {"failed": 1}
    assert mapping_db.item_links(Scope(env["conn"], env["tenant"], "")) == {}
    assert env["push"]("r3") == {"updated": 1}
    new_item = by_st_id(qbo)[740]["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    assert new_item != item_id and by_st_id(qbo)[740]["TotalAmt"] == 60.0


@pytest.mark.parametrize("mode", ["upload", "download"])
def test_no_invoice_is_pushed_outside_sync_mode(qbo, st, env, mode: str) -> None:
    seed_pair(qbo, st, env, invoice(750, "Pair Co", line(None, 1, 10, description="x"), num=7500))
    clear_logs(qbo)
    assert env["push"]("r1", mode=mode)["mode"] == mode
    assert qbo.writes() == [] and by_st_id(qbo) == {}


def test_an_item_name_differing_only_in_case_is_reused_not_duplicated(qbo, st, env) -> None:
    [valve] = seed_qbo(qbo, Item=[{"Name": "valve", "Type": "Service", "IncomeAccountRef": {"value": "1"}}])["Item"]
    seed_pair(qbo, st, env, invoice(760, "Pair Co", line("VALVE", 1, 30, description="Valve"), num=7600))
    assert env["push"]("r1") == {"pushed": 1}
    assert by_st_id(qbo)[760]["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == valve["Id"]
    assert len(qbo.admin("GET", "/_sim/state").json()["Item"]) == 1
    assert mapping_db.item_links(Scope(env["conn"], env["tenant"], "")) == {"VALVE": valve["Id"]}


def test_an_update_whose_reply_was_always_lost_is_not_sent_again(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(770, "Pair Co", line(None, 1, 10, description="x"), num=7700))
    assert env["push"]("r1") == {"pushed": 1}
    edit(st, "invoices", 770, lines=[line(None, 4, 10, description="y")])
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/invoice$", "action": "drop_after_commit", "times": 0}]}).raise_for_status()
    with pytest.raises(RetriableApiError):
        env["push"]("r2")
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()
    clear_logs(qbo)
    assert env["push"]("r2") == {"updated": 1}, "the task's retry finds its update in QuickBooks"
    assert qbo.writes() == [] and by_st_id(qbo)[770]["SyncToken"] == "1" and by_st_id(qbo)[770]["TotalAmt"] == 40.0
    assert env["push"]("r3") == {"unchanged": 1}


def test_a_refused_create_gets_a_fresh_request_id_once_the_cause_is_fixed(qbo, st, env) -> None:
    qbo.admin("PATCH", "/_sim/preferences", json={"SalesFormsPrefs": {"CustomTxnNumbers": True}}).raise_for_status()
    seed_pair(qbo, st, env, invoice(780, "Pair Co", line(None, 1, 10, description="x"), num=7800))
    customer_id = qbo.admin("GET", "/_sim/state").json()["Customer"][0]["Id"]
    seed_qbo(qbo, Item=[{"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": "1"}}])
    [other] = seed_qbo(qbo, Invoice=[{"CustomerRef": {"value": customer_id}, "DocNumber": "7800", "Line": [
        {"Amount": 1.0, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}]
                       )["Invoice"]
    assert env["push"]("r1", use_synchroteam_invoice_numbers=True) == {"failed": 1}
    assert [code for code, _ in env["errors"]("r1")] == ["6140"]
    edit(qbo, "Invoice", other["Id"], DocNumber="OLD-7800")      # a person renumbers the clashing invoice
    assert env["push"]("r2", use_synchroteam_invoice_numbers=True) == {"pushed": 1}
    ours = [i for i in qbo.admin("GET", "/_sim/state").json()["Invoice"] if i["Id"] != other["Id"]]
    assert [i["DocNumber"] for i in ours] == ["7800"]


def test_new_items_follow_the_income_account_and_item_type_options(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(790, "Pair Co", line("GASKET", 2, 3, description="Gasket"), num=7900))
    assert env["push"]("r1", income_account_id="2", item_type="NonInventory") == {"pushed": 1}
    [item] = qbo.admin("GET", "/_sim/state").json()["Item"]
    assert (item["Name"], item["Type"], item["IncomeAccountRef"]["value"]) == ("GASKET", "NonInventory", "2")
    notes = ledger_db.notes(Scope(env["conn"], env["tenant"], "r1"))
    assert notes == ["QuickBooks items created for parts: GASKET"]


def test_a_company_refusing_in_and_sku_filters_still_gets_exactly_one_invoice_each(qbo, st, env) -> None:
    client: QuickBooksClient = env["qbo_client"]
    real_query = client.query
    refused: list[str] = []

    def picky_query(statement: str) -> Any:
        if " IN (" in statement or "Sku" in statement:
            refused.append(statement)
            raise ValidationError("QueryValidationError: not supported", api="quickbooks", code="4001")
        return real_query(statement)

    client.query = picky_query  # type: ignore[method-assign]
    [valve] = seed_qbo(qbo, Item=[{"Name": "VALVE", "Type": "Service", "IncomeAccountRef": {"value": "1"}}])["Item"]
    seed_qbo(qbo, Customer=[qbo_customer("Second Co")])
    seed_st(st, st_customer("Second Co"))
    seed_pair(qbo, st, env, invoice(800, "Pair Co", line("VALVE", 1, 30, description="v"), num=8000),
              invoice(801, "Second Co", line("VALVE", 2, 30, description="v"), num=8001))
    env["link"]("Second Co", "Second Co")
    assert env["push"]("r1") == {"pushed": 2}
    for i in (800, 801):
        edit(st, "invoices", i, lines=[line("VALVE", 3, 30, description="w")])
    assert env["push"]("r2") == {"updated": 2}
    pushed = by_st_id(qbo)
    assert [pushed[i]["TotalAmt"] for i in (800, 801)] == [90.0, 90.0]
    assert {pushed[i]["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] for i in (800, 801)} == {valve["Id"]}
    assert any("CustomerRef IN" in r for r in refused) and any("Id IN" in r for r in refused)
    assert env["errors"]("r1") == env["errors"]("r2") == []


def test_two_synchroteam_accounts_into_one_company_never_adopt_each_others_invoices(qbo, st, env) -> None:
    seed_pair(qbo, st, env, invoice(990, "Pair Co", line(None, 1, 10, description="from demo"), num=9900))
    assert env["push"]("r1") == {"pushed": 1}
    st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "other", "api_key": "other-key"}]})
    st.admin("POST", "/_sim/seed?domain=other", json={"customers": [st_customer("Pair Co")], "invoices": [
        invoice(990, "Pair Co", line(None, 1, 77, description="from other"), num=9900)]}).raise_for_status()
    other = SynchroteamClient(st.url, "other", "other-key", retry_policy=FAST, timezone=ST_TIMEZONE)
    conn = env["conn"]
    tenant = tenants.ensure_tenant(conn, "other", env["qbo_client"].realm_id, "sandbox", qbo.url)
    other_state = st.admin("GET", "/_sim/state?domain=other").json()
    qbo_customer_id = qbo.admin("GET", "/_sim/state").json()["Customer"][0]["Id"]
    ctx = RunContext(conn, tenant, "o1")
    mapping_db.add_link(ctx, int(other_state["customers"][0]["id"]), str(qbo_customer_id), "match")
    staging.replace(ctx, "st_invoice", [(990, other_state["invoices"][0])])
    conn.commit()
    assert service.plan_and_push_invoices(ctx, env["qbo_client"], other, QuickBooksOptions()) == {"pushed": 1}
    notes = sorted(i["PrivateNote"] for i in qbo.admin("GET", "/_sim/state").json()["Invoice"])
    assert [n.split(" v:")[0] for n in notes] == ["Synchroteam invoice 990 (#9900) from demo",
                                                  "Synchroteam invoice 990 (#9900) from other"]
    assert sorted(i["TotalAmt"] for i in qbo.admin("GET", "/_sim/state").json()["Invoice"]) == [10.0, 77.0]
