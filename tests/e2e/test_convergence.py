"""Property-based convergence under injected faults.

Hypothesis draws a starting state and a sequence of steps: people editing, creating, deactivating and deleting
customers on either side, faults injected into the next writes, and sync runs. The runs call the task entry points
of `stqbo_sync.service` in DAG order (no Airflow, so many examples fit in a test), against both simulators and
PostgreSQL. Whatever happened, once people stop editing and faults stop: one run makes both sides agree, and the
run after that writes nothing; no customer is ever duplicated.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as stg

from stqbo_hooks.quickbooks import QuickBooksHook
from stqbo_hooks.synchroteam import SynchroteamHook
from stqbo_store import Scope
from stqbo_store import connect as connect_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import mapping, service
from stqbo_sync.names import match_key
from tests.e2e.helpers import clear_logs, edit, qbo_customer, seed_qbo, seed_st, st_customer

pytestmark = pytest.mark.e2e
NAMES = ["Alder Works", "Birch & Co", "Cedar: East", "Dogwood Ltd", "alder works"]
FIELDS_ST = {"contactEmail": ["a@x.example", "b@x.example", ""], "contactPhone": ["555-0001", "555-0002", ""],
             "addressCity": ["Springfield", "Shelbyville"]}
FIELDS_QBO = {"PrimaryEmailAddr": [{"Address": "q@x.example"}, {"Address": "a@x.example"}],
              "PrimaryPhone": [{"FreeFormNumber": "555-0009"}], "Mobile": [{"FreeFormNumber": "555-7777"}]}
_run_ids = itertools.count()

step = stg.one_of(
    stg.tuples(stg.just("edit_st"), stg.integers(0, 9), stg.sampled_from(sorted(FIELDS_ST)), stg.integers(0, 2)),
    stg.tuples(stg.just("edit_qbo"), stg.integers(0, 9), stg.sampled_from(sorted(FIELDS_QBO)), stg.integers(0, 1)),
    stg.tuples(stg.just("create_st"), stg.sampled_from(NAMES)),
    stg.tuples(stg.just("create_qbo"), stg.sampled_from(NAMES)),
    stg.tuples(stg.just("deactivate_st"), stg.integers(0, 9)),
    stg.tuples(stg.just("deactivate_qbo"), stg.integers(0, 9)),
    stg.tuples(stg.just("delete_st"), stg.integers(0, 9)),
    stg.tuples(stg.just("fault"), stg.sampled_from(["qbo-503", "qbo-drop", "st-503", "st-drop"])),
    stg.tuples(stg.just("run"), stg.sampled_from(["sync", "sync", "upload", "download"])),
)


def run(state_db: str, mode: str = "sync") -> None:
    """One run, tasks in DAG order; a failing task ends it like Airflow would, and `report` always runs."""
    rt = service.Runtime(dsn=state_db, run_id=f"prop__{next(_run_ids)}", qbo=QuickBooksHook().get_conn(),
                         st=SynchroteamHook().get_conn(), mode=mode)
    failed = False
    try:
        service.extract_synchroteam(rt)
        service.extract_quickbooks(rt)
        service.diff_and_match(rt)
        service.load_changes(rt)
        service.push_invoices(rt)
    except Exception:
        failed = True
    try:
        service.build_report(rt, upstream_failed=failed)
    except service.RunFailed:
        pass


def apply(step_: tuple[Any, ...], qbo: Any, st: Any) -> None:
    kind = step_[0]
    sts = st.admin("GET", "/_sim/state").json()["customers"]
    qbos = qbo.admin("GET", "/_sim/state").json()["Customer"]
    if kind == "edit_st" and sts:
        c = sts[step_[1] % len(sts)]
        edit(st, "customers", c["id"], **{step_[2]: FIELDS_ST[step_[2]][step_[3] % len(FIELDS_ST[step_[2]])]})
    elif kind == "edit_qbo" and qbos:
        c = qbos[step_[1] % len(qbos)]
        edit(qbo, "Customer", c["Id"], **{step_[2]: FIELDS_QBO[step_[2]][step_[3] % len(FIELDS_QBO[step_[2]])]})
    elif kind == "create_st":
        seed_st(st, st_customer(step_[1]))
    elif kind == "create_qbo" and not any(c["DisplayName"].casefold() == step_[1].replace(":", " -").casefold()
                                          for c in qbos):
        seed_qbo(qbo, Customer=[qbo_customer(step_[1].replace(":", " -"))])
    elif kind == "deactivate_st" and sts:
        edit(st, "customers", sts[step_[1] % len(sts)]["id"], active=False)
    elif kind == "deactivate_qbo" and qbos:
        c = qbos[step_[1] % len(qbos)]
        if c.get("Active", True):
            edit(qbo, "Customer", c["Id"], Active=False)
    elif kind == "delete_st" and sts:
        st.admin("DELETE", f"/_sim/customers/{sts[step_[1] % len(sts)]['id']}")
    elif kind == "fault":
        sim, action = (qbo, step_[1][4:]) if step_[1].startswith("qbo") else (st, step_[1][3:])
        rule = {"method": "POST", "path": r"/(customer|send)$", "times": 1,
                "action": "error" if action == "503" else "drop_after_commit", "status": 503}
        sim.admin("POST", "/_sim/faults", json={"faults": [rule]}).raise_for_status()


def assert_converged(state_db: str, qbo: Any, st: Any) -> None:
    sts = {c["id"]: c for c in st.admin("GET", "/_sim/state").json()["customers"]}
    qbos = {c["Id"]: c for c in qbo.admin("GET", "/_sim/state").json()["Customer"]}
    conn = connect_db(state_db)
    links = mapping_db.links(Scope(conn, 1, ""))
    conn.close()
    linked_qbo = [q for _, q, _ in links]
    assert len(linked_qbo) == len(set(linked_qbo)), "a QuickBooks customer linked twice"
    for st_id, qbo_id, st_deleted in links:
        q = mapping.qbo_to_canon(qbos[qbo_id])
        if st_deleted or st_id not in sts:
            assert q["active"] is False, f"QuickBooks {qbo_id} still active after Synchroteam {st_id} was deleted"
            continue
        s = mapping.st_to_canon(sts[st_id])
        for field in ("email", "phone", "mobile", "city", "active"):
            assert s[field] == q[field], f"{field} differs: Synchroteam {st_id} {s[field]!r} / QuickBooks {qbo_id} {q[field]!r}"
    linked_st = {s for s, _, _ in links}
    for st_id, c in sts.items():   # every active Synchroteam customer has its QuickBooks counterpart
        if c.get("active", True) and st_id not in linked_st:
            same = [x for x in sts.values() if match_key(x["name"]) == match_key(c["name"])]
            assert len(same) > 1, f"Synchroteam {st_id} {c['name']!r} never reached QuickBooks"


@settings(max_examples=int(__import__("os").environ.get("STQBO_PROPERTY_EXAMPLES", "12")), deadline=None, suppress_health_check=list(HealthCheck), derandomize=__import__("os").environ.get("STQBO_PROPERTY_RANDOM") != "1")
@given(start_st=stg.lists(stg.sampled_from(NAMES), max_size=3), start_qbo=stg.lists(stg.sampled_from(NAMES[:4]),
       max_size=3, unique=True), steps=stg.lists(step, min_size=1, max_size=8))
def test_any_history_converges_then_goes_quiet(qbo_sim, st_sim, state_db_url, qbo_conn_factory, start_st, start_qbo,
                                               steps) -> None:
    from tests.conftest import _drop_user_schemas

    qbo_sim.reset()
    st_sim.reset()
    _drop_user_schemas(state_db_url)
    qbo_conn_factory()
    if start_st:
        seed_st(st_sim, *[st_customer(n) for n in start_st])
    if start_qbo:
        seed_qbo(qbo_sim, Customer=[qbo_customer(n.replace(":", " -")) for n in start_qbo])
    run(state_db_url, "sync")
    for s in steps:
        if s[0] == "run":
            run(state_db_url, s[1])
        else:
            apply(s, qbo_sim, st_sim)
    qbo_sim.admin("DELETE", "/_sim/faults")
    st_sim.admin("DELETE", "/_sim/faults")
    run(state_db_url, "upload")   # a full read, as the daily reconcile does: sees deletions in Synchroteam
    run(state_db_url, "sync")
    assert_converged(state_db_url, qbo_sim, st_sim)
    clear_logs(qbo_sim, st_sim)
    run(state_db_url, "sync")
    assert qbo_sim.writes() == [] and st_sim.writes() == [], (qbo_sim.writes(), st_sim.writes())
