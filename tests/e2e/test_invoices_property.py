"""Property: whatever the history of edits, numbering, payments, deletions and edits by a person in QuickBooks, and
faults on invoice writes, no Synchroteam invoice ever has two QuickBooks invoices and a deleted one never comes
back; once faults stop, one push brings every open invoice to Synchroteam's total and the next push writes nothing.
`service.plan_and_push_invoices` is called directly (no Airflow), so many histories fit in a test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as stg

from devenv.sims import ST_TIMEZONE
from stqbo_api.errors import ApiError
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import QuickBooksClient
from stqbo_api.synchroteam import SynchroteamClient
from stqbo_api.tokens import TokenStore
from stqbo_api.transport import RealmLimits, RetryPolicy, SlidingWindowLimiter
from stqbo_store import Scope, migrate, staging, tenants
from stqbo_store import connect as connect_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import service
from stqbo_sync.types import RunContext
from tests.e2e.helpers import clear_logs, edit, qbo_customer, seed_qbo, seed_st, st_customer
from tests.e2e.test_invoices import by_st_id, invoice, line

pytestmark = pytest.mark.e2e
NY = {"name": "NY", "rate": 8.875}
FAULTS = {"drop": {"action": "drop_after_commit", "times": 1}, "503": {"action": "error", "status": 503, "times": 2},
          "lost-always": {"action": "drop_after_commit", "times": 0}}
_runs = itertools.count()

step = stg.one_of(
    stg.tuples(stg.just("edit"), stg.integers(0, 3), stg.integers(1, 5)),
    stg.tuples(stg.just("number"), stg.integers(0, 3)),
    stg.tuples(stg.just("pay"), stg.integers(0, 3)),
    stg.tuples(stg.just("delete_qbo"), stg.integers(0, 3)),
    stg.tuples(stg.just("memo_qbo"), stg.integers(0, 3)),
    stg.tuples(stg.just("fault"), stg.sampled_from(sorted(FAULTS)), stg.sampled_from(["invoice", "batch"])),
    stg.tuples(stg.just("push")),
)


@pytest.fixture(autouse=True)
def restore_limits(qbo_sim: Any, st_sim: Any) -> Iterator[None]:
    """Each example turns the simulators' rate limits off; whatever was set before is put back afterwards."""
    saved = [(sim, sim.admin("GET", "/_sim/limits").json()) for sim in (qbo_sim, st_sim)]
    yield
    for sim, limits in saved:
        keys = ("requests_per_minute", "concurrent", "batch_per_minute", "daily_quota")
        sim.admin("POST", "/_sim/limits", json={k: v for k, v in limits.items() if k in keys})


def fresh_db(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname IN ('sync','staging','mapping','ledger','audit')")
        for (schema,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
    conn.close()


def roomy() -> RealmLimits:
    """Private client-side limits: the process-wide per-realm budget is shared with every other test."""
    return RealmLimits(requests=SlidingWindowLimiter(1_000_000), batches=SlidingWindowLimiter(1_000_000))


class World:
    """Both simulators reset, one linked customer, four invoices (the last a draft), a migrated state DB."""

    def __init__(self, qbo: Any, st: Any, url: str) -> None:
        self.qbo, self.st = qbo, st
        for sim in (qbo, st):
            sim.reset()
            sim.admin("DELETE", "/_sim/faults")
        qbo.admin("POST", "/_sim/limits", json={"requests_per_second": 0, "requests_per_minute": 0, "concurrent": 0,
                                                "batch_per_minute": 0})
        st.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 0})
        fresh_db(url)
        grant = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": "demo-client",
                                                             "client_secret": "demo-secret"}).json()
        fast = RetryPolicy(backoff_base=0.001, sleep=lambda s: None)
        self.q = QuickBooksClient(qbo.url, grant["realm_id"], "demo-client", "demo-secret",
                                  TokenStore(url, "demo-secret"), qbo.url + "/oauth2/v1/tokens/bearer",
                                  initial_refresh_token=grant["refresh_token"], retry_policy=fast,
                                  limits=roomy())
        self.s = SynchroteamClient(st.url, "demo", "demo-api-key", retry_policy=fast, timezone=ST_TIMEZONE)
        self.conn = connect_db(url)
        migrate.migrate(self.conn)
        self.tenant = tenants.ensure_tenant(self.conn, "demo", self.q.realm_id, "sandbox", qbo.url)
        [qc] = seed_qbo(qbo, Customer=[qbo_customer("Prop Co")])["Customer"]
        [sc] = seed_st(st, st_customer("Prop Co"), invoices=[
            invoice(900 + i, "Prop Co", line(None, 1, 10 + i, tax=NY if i % 2 else None, description="Work"),
                    status="draft" if i == 3 else "sent") for i in range(4)])
        mapping_db.add_link(Scope(self.conn, self.tenant, "setup"), int(sc["id"]), str(qc["Id"]), "match")
        self.conn.commit()
        self.deleted: set[int] = set()      # deleted in QuickBooks by a person: must never come back

    def push(self) -> None:
        staged = [(int(i["id"]), i) for i in self.st.admin("GET", "/_sim/state").json()["invoices"]]
        run_id = f"prop-{next(_runs)}"
        ctx = RunContext(self.conn, self.tenant, run_id)
        staging.replace(ctx, "st_invoice", staged)
        self.conn.commit()
        try:
            service.plan_and_push_invoices(ctx, self.q, self.s, QuickBooksOptions())
        except ApiError:
            self.conn.rollback()        # the task failed; Airflow would retry it: the next push is that retry
        by_st_id(self.qbo)              # never two QuickBooks invoices for one Synchroteam invoice

    def apply(self, s: tuple[Any, ...]) -> None:
        kind = s[0]
        st_inv = self.st.admin("GET", "/_sim/state").json()["invoices"]
        if kind == "edit":
            edit(self.st, "invoices", st_inv[s[1]]["id"], lines=[line(None, s[2], 10 + s[1], tax=NY, description="W")])
        elif kind == "number" and st_inv[s[1]]["status"] == "draft":
            edit(self.st, "invoices", st_inv[s[1]]["id"], status="new")
        elif kind == "pay":
            pushed = by_st_id(self.qbo).get(int(st_inv[s[1]]["id"]))
            if pushed is not None and pushed["Balance"] > 0:
                edit(self.qbo, "Invoice", pushed["Id"], Balance=0)
        elif kind in ("delete_qbo", "memo_qbo"):
            pushed = by_st_id(self.qbo).get(int(st_inv[s[1]]["id"]))
            if pushed is not None and kind == "delete_qbo":
                self.qbo.admin("DELETE", f"/_sim/Invoice/{pushed['Id']}").raise_for_status()
                self.deleted.add(int(st_inv[s[1]]["id"]))
            elif pushed is not None:
                edit(self.qbo, "Invoice", pushed["Id"], CustomerMemo={"value": "typed by a person"})
        elif kind == "fault":
            rule = {"method": "POST", "path": rf"/v3/company/[^/]+/{s[2]}$", **FAULTS[s[1]]}
            self.qbo.admin("POST", "/_sim/faults", json={"faults": [rule]}).raise_for_status()
        elif kind == "push":
            self.push()


@settings(max_examples=int(os.environ.get("STQBO_PROPERTY_EXAMPLES", "12")), deadline=None,
          suppress_health_check=list(HealthCheck), derandomize=os.environ.get("STQBO_PROPERTY_RANDOM") != "1")
@given(steps=stg.lists(step, min_size=1, max_size=10))
def test_invoice_histories_never_duplicate_then_converge_and_go_quiet(qbo_sim, st_sim, state_db_url, steps) -> None:
    world = World(qbo_sim, st_sim, state_db_url)
    try:
        world.push()
        for s in steps:
            world.apply(s)
        qbo_sim.admin("DELETE", "/_sim/faults")
        world.push()
        st_inv = {int(i["id"]): i for i in st_sim.admin("GET", "/_sim/state").json()["invoices"]}
        pushed = by_st_id(qbo_sim)
        assert sorted(pushed) == sorted(k for k, v in st_inv.items() if v["status"] != "draft"
                                        and k not in world.deleted)
        for st_id, q in pushed.items():
            if q["Balance"] == q["TotalAmt"]:       # open: it follows Synchroteam; paid ones are left alone
                assert q["TotalAmt"] == st_inv[st_id]["total"], (st_id, q, st_inv[st_id])
        clear_logs(qbo_sim)
        world.push()
        assert qbo_sim.writes() == [], qbo_sim.writes()
    finally:
        world.conn.close()
