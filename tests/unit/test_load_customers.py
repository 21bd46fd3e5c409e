"""The customer loader against the in-memory API fakes and a real, migrated PostgreSQL state database.

Each test plans from what the fakes hold (as `diff_and_match` does after a full read of both sides), lets the
world change where the case needs it, then loads. The plan rows go through the store like in a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from stqbo_api.errors import RetriableApiError
from stqbo_store import audit, connect, migrate, tenants
from stqbo_store import mapping as mapping_db
from stqbo_store import plan as plan_db
from stqbo_sync import mapping, plan_customers
from stqbo_sync.load_customers import Loader
from stqbo_sync.types import Action, Mode, RunContext, Status
from tests.unit.fakes import FakeQuickBooks, FakeSynchroteam

ALL_CUSTOMERS = "SELECT * FROM Customer WHERE Active IN (true, false)"


@pytest.fixture()
def ctx(state_db: str) -> Iterator[RunContext]:
    conn = connect(state_db)
    migrate.migrate(conn)
    tenant_id = tenants.ensure_tenant(conn, "demo", "9130", "sandbox", "")
    conn.commit()
    try:
        yield RunContext(conn, tenant_id, "run-1", Mode.SYNC)
    finally:
        conn.close()


@pytest.fixture()
def qbo() -> FakeQuickBooks:
    return FakeQuickBooks(realm_id="9130")


@pytest.fixture()
def st() -> FakeSynchroteam:
    return FakeSynchroteam()


def plan(ctx: RunContext, qbo: FakeQuickBooks, st: FakeSynchroteam, *,
         hide_st: tuple[int, ...] = ()) -> plan_customers.Plan:
    """Plan from a full read of both fakes (``hide_st``: customers a paged read missed), and store the plan."""
    others = [(e, o["Id"], o["DisplayName"]) for e in ("Vendor", "Employee")
              for o in qbo.query(f"SELECT * FROM {e} WHERE Active IN (true, false)")]
    inputs = plan_customers.PlanInputs(
        mode=ctx.mode, st_staged={c["id"]: c for c in st.list_customers() if c["id"] not in hide_st},
        qbo_staged={c["Id"]: c for c in qbo.query(ALL_CUSTOMERS)}, links=mapping_db.links(ctx),
        st_bases=mapping_db.bases(ctx, "st"), qbo_bases=mapping_db.bases(ctx, "qbo"), other_names=others,
        st_zone=st.timezone, st_full_read=True)
    result = plan_customers.build(inputs)
    plan_db.replace(ctx, [r.as_dict() for r in result.rows])
    ctx.conn.commit()
    qbo.calls.clear()
    st.calls.clear()
    return result


def load(ctx: RunContext, qbo: FakeQuickBooks, st: FakeSynchroteam) -> list[dict[str, Any]]:
    """Run the loader over the stored plan; returns the rows as stored afterwards."""
    Loader(ctx, qbo, st).run()
    return plan_db.rows(ctx)


def sync(ctx: RunContext, qbo: FakeQuickBooks, st: FakeSynchroteam) -> list[dict[str, Any]]:
    plan(ctx, qbo, st)
    return load(ctx, qbo, st)


def writes(fake: FakeQuickBooks | FakeSynchroteam) -> list[str]:
    return [c.method for c in fake.calls if c.method in ("create", "update", "batch", "send_customer")]


def next_run(ctx: RunContext, n: int = 2) -> RunContext:
    return dataclasses.replace(ctx, run_id=f"run-{n}")


# ----------------------------------------------------------------------------------------------- creates


def test_create_qbo_writes_once_links_and_a_second_run_writes_nothing(ctx: RunContext, qbo: FakeQuickBooks,
                                                                      st: FakeSynchroteam) -> None:
    acme = st.add_customer("Acme", contactEmail="a@acme.example")
    [row] = sync(ctx, qbo, st)
    assert (row["action"], row["status"]) == (Action.CREATE_QBO, Status.DONE)
    [made] = qbo.customers()
    assert (made["DisplayName"], made["PrimaryEmailAddr"]) == ("Acme", {"Address": "a@acme.example"})
    assert writes(qbo) == ["create"] and writes(st) == []
    assert mapping_db.links(ctx) == [(acme["id"], made["Id"], False)]
    assert mapping_db.base(ctx, "qbo", made["Id"]) == {"canon": mapping.qbo_to_canon(made), "version": "0"}
    again = next_run(ctx)
    assert plan(again, qbo, st).rows == []


def test_6240_held_by_an_unlinked_same_name_customer_is_adopted_and_merged(ctx: RunContext, qbo: FakeQuickBooks,
                                                                           st: FakeSynchroteam) -> None:
    acme = st.add_customer("Acme", contactEmail="a@acme.example")
    plan(ctx, qbo, st)
    held = qbo.add("Customer", DisplayName="ACME", PrimaryPhone={"FreeFormNumber": "555-0100"})   # since the read
    [row] = load(ctx, qbo, st)
    assert row["status"] == Status.DONE and row["result"]["adopted"] is True
    assert row["result"]["qbo_id"] == held["Id"]
    assert [c["Id"] for c in qbo.customers()] == [held["Id"]]           # nothing created, nothing suffixed
    assert qbo.get("Customer", held["Id"])["PrimaryEmailAddr"] == {"Address": "a@acme.example"}
    assert st.get_customer(id=acme["id"])["contactPhone"] == "555-0100"  # type: ignore[index]
    assert mapping_db.links(ctx) == [(acme["id"], held["Id"], False)]


def test_6240_held_by_a_vendor_gets_the_suffixed_name(ctx: RunContext, qbo: FakeQuickBooks,
                                                      st: FakeSynchroteam) -> None:
    acme = st.add_customer("Acme")
    plan(ctx, qbo, st)
    qbo.add("Vendor", DisplayName="Acme", Id="1")      # same Id as the customer QuickBooks will make: not a holder
    [row] = load(ctx, qbo, st)
    [made] = qbo.customers()
    assert (row["status"], made["DisplayName"]) == (Status.DONE, f"Acme (ST {acme['id']})")
    assert made["CompanyName"] == "Acme"
    assert mapping_db.links(ctx) == [(acme["id"], made["Id"], False)]


def test_retried_create_with_the_same_request_id_does_not_duplicate(ctx: RunContext, qbo: FakeQuickBooks,
                                                                    st: FakeSynchroteam) -> None:
    st.add_customer("Acme")
    plan(ctx, qbo, st)
    qbo.fail_next("create", RetriableApiError("connection reset", api="quickbooks"), apply=True)   # reply lost
    [row] = load(ctx, qbo, st)
    assert row["status"] == Status.FAILED and len(qbo.customers()) == 1
    assert [e["record_key"] for e in audit.record_errors(ctx)] == [str(row["st_id"])]
    [row] = load(ctx, qbo, st)                                            # the task is retried
    assert row["status"] == Status.DONE and len(qbo.customers()) == 1
    first, retry = [c.request_id for c in qbo.calls if c.method == "create"]
    assert first == retry
    assert audit.record_errors(ctx) == []


def test_create_st_adopts_our_own_earlier_create_by_my_id(ctx: RunContext, qbo: FakeQuickBooks,
                                                          st: FakeSynchroteam) -> None:
    beta = qbo.add("Customer", DisplayName="Beta", PrimaryEmailAddr={"Address": "b@beta.example"})
    plan(ctx, qbo, st)
    st.fail_next("send_customer", RetriableApiError("read timeout", api="synchroteam"), apply=True)
    [row] = load(ctx, qbo, st)
    assert row["status"] == Status.FAILED
    [made] = st.list_customers()
    assert made["myId"] == f"QBO-9130-{beta['Id']}"
    [row] = load(ctx, qbo, st)
    assert row["status"] == Status.DONE and row["result"] == {"st_id": made["id"]}
    assert len(st.customers) == 1 and writes(st) == ["send_customer"]   # the failed send only
    assert mapping_db.links(ctx) == [(made["id"], beta["Id"], False)]


# ----------------------------------------------------------------------------------------------- linked pairs


def linked_pair(ctx: RunContext, qbo: FakeQuickBooks, st: FakeSynchroteam) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pair synced by an earlier run (its link and bases stored)."""
    acme = st.add_customer("Acme", contactEmail="a@acme.example")
    sync(ctx, qbo, st)
    [made] = qbo.customers()
    return acme, made


def test_update_with_a_stale_sync_token_is_superseded(ctx: RunContext, qbo: FakeQuickBooks,
                                                      st: FakeSynchroteam) -> None:
    acme, made = linked_pair(ctx, qbo, st)
    run2 = next_run(ctx)
    st.send_customer({"id": acme["id"], "contactEmail": "new@acme.example"})
    [planned] = plan(run2, qbo, st).rows
    assert (planned.action, planned.payload["to_qbo"]) == (Action.UPDATE, {"email": "new@acme.example"})
    qbo.update("Customer", {"Id": made["Id"], "SyncToken": "0", "GivenName": "Ann"}, "person")   # edited meanwhile
    before = mapping_db.bases(run2, "qbo")
    [row] = load(run2, qbo, st)
    assert row["status"] == Status.SUPERSEDED
    now = qbo.get("Customer", made["Id"])
    assert (now["GivenName"], now["PrimaryEmailAddr"]) == ("Ann", {"Address": "a@acme.example"})
    assert mapping_db.bases(run2, "qbo") == before


def test_row_whose_bases_moved_is_superseded_without_writing(ctx: RunContext, qbo: FakeQuickBooks,
                                                             st: FakeSynchroteam) -> None:
    acme, made = linked_pair(ctx, qbo, st)
    run2 = next_run(ctx)
    st.send_customer({"id": acme["id"], "contactEmail": "new@acme.example"})
    plan(run2, qbo, st)
    newer = mapping.st_to_canon(st.get_customer(id=acme["id"]) or {})
    mapping_db.save_base(run2, "st", str(acme["id"]), newer, None)     # a newer run already synced the pair
    run2.conn.commit()
    [row] = load(run2, qbo, st)
    assert (row["status"], row["error"]) == (Status.SUPERSEDED, "a newer run already synced this pair")
    assert writes(qbo) == [] and writes(st) == []
    assert qbo.get("Customer", made["Id"])["PrimaryEmailAddr"] == {"Address": "a@acme.example"}


@pytest.mark.parametrize("really_deleted", [True, False], ids=["deleted", "missed-by-the-paged-read"])
def test_deactivate_qbo_confirms_the_deletion_first(ctx: RunContext, qbo: FakeQuickBooks, st: FakeSynchroteam,
                                                    really_deleted: bool) -> None:
    acme, made = linked_pair(ctx, qbo, st)
    run2 = next_run(ctx)
    if really_deleted:
        st.delete_customer(id=acme["id"])
    [planned] = plan(run2, qbo, st, hide_st=(acme["id"],)).rows
    assert planned.action == Action.DEACTIVATE_QBO
    [row] = load(run2, qbo, st)
    assert [c.method for c in st.calls] == ["get_customer"]              # looked before deactivating
    now = qbo.get("Customer", made["Id"])
    if really_deleted:
        assert (row["status"], now["Active"], now["DisplayName"]) == (Status.DONE, False, "Acme (deleted)")
        assert mapping_db.links(run2) == [(acme["id"], made["Id"], True)]
    else:
        assert (row["status"], now["Active"]) == (Status.SUPERSEDED, True)
        assert writes(qbo) == [] and mapping_db.links(run2) == [(acme["id"], made["Id"], False)]


def test_update_writes_both_ways_and_stores_the_new_bases(ctx: RunContext, qbo: FakeQuickBooks,
                                                          st: FakeSynchroteam) -> None:
    acme, made = linked_pair(ctx, qbo, st)
    run2 = next_run(ctx)
    st.send_customer({"id": acme["id"], "contactEmail": "new@acme.example"})
    qbo.update("Customer", {"Id": made["Id"], "SyncToken": "0", "Mobile": {"FreeFormNumber": "555-7000"}}, "person")
    [row] = sync(run2, qbo, st)
    assert row["status"] == Status.DONE and row["result"] == {"to_qbo": ["email"], "to_st": ["mobile"]}
    assert qbo.get("Customer", made["Id"])["PrimaryEmailAddr"] == {"Address": "new@acme.example"}
    assert (st.get_customer(id=acme["id"]) or {})["contactMobile"] == "555-7000"
    assert plan(next_run(ctx, 3), qbo, st).rows == []                   # converged: nothing left to do
