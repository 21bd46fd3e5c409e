"""Sandbox -> production: pointing `quickbooks_default` at another company starts a clean mapping.

State is keyed by tenant = (Synchroteam domain, QuickBooks realm id). After an Upload into realm A, the connection
is switched to realm B (a fresh grant, as `make connect` against the production company would give). The next
Upload must create every customer in B from scratch, write nothing to A, never send one of A's ids to B, and leave
A's links in the state DB for audit.

Every HTTP request the hooks send is recorded in-process (dag.test runs the tasks in this process), so the test
sees the bodies, not only the simulator's request log.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import requests

from tests.e2e.helpers import clear_logs, qbo_customer, seed_qbo, seed_st, st_customer

pytestmark = pytest.mark.e2e

REALM_B = "9130358000000001"
NAMES = ["Cool Cars", "Amy's Bird Sanctuary", "Dukes Basketball Camp"]
PARTS = [{"reference": "SVC-HOUR", "name": "Labour hour", "price": "85.00", "type": "service"}]
INVOICES = [  # Synchroteam invoices of two of the customers, pushed by the sync runs
    {"id": 501, "num": 7001, "customer": {"name": "Cool Cars"}, "status": "sent", "description": "Job",
     "lines": [{"partProductCode": "SVC-HOUR", "quantity": 2, "unitPrice": 85, "discount": 0, "tax": None}]},
    {"id": 502, "num": 7002, "customer": {"name": "Dukes Basketball Camp"}, "status": "sent", "description": "Job",
     "lines": [{"partProductCode": "SVC-HOUR", "quantity": 1, "unitPrice": 85, "discount": 0, "tax": None}]},
]


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every request the process sends: method, URL and JSON body (None when there is none)."""
    calls: list[dict[str, Any]] = []
    real_send = requests.Session.send

    def recording_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        body = request.body
        text = body.decode() if isinstance(body, bytes) else body
        calls.append({"method": request.method, "url": request.url, "body": text})
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    yield calls


def qbo_state(qbo: Any, realm: str | None = None) -> dict[str, Any]:
    query = f"?realm={realm}" if realm else ""
    resp = qbo.admin("GET", f"/_sim/state{query}")
    resp.raise_for_status()
    return dict(resp.json())


def links_by_realm(state_db: str) -> dict[str, dict[int, str]]:
    conn = psycopg2.connect(state_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT t.qbo_realm_id, l.st_id, l.qbo_id FROM mapping.customer_link l "
                        "JOIN sync.tenant t USING (tenant_id)")
            out: dict[str, dict[int, str]] = {}
            for realm, st_id, qbo_id in cur.fetchall():
                out.setdefault(str(realm), {})[int(st_id)] = str(qbo_id)
            return out
    finally:
        conn.close()


def customer_writes(calls: list[dict[str, Any]], realm: str) -> list[dict[str, Any]]:
    """Customer bodies POSTed to a realm, single or inside a batch."""
    bodies: list[dict[str, Any]] = []
    for call in calls:
        if call["method"] != "POST" or f"/v3/company/{realm}/" not in call["url"] or not call["body"]:
            continue
        path = call["url"].split(f"/v3/company/{realm}/", 1)[1].split("?")[0]
        data = json.loads(call["body"]) if call["body"].lstrip().startswith("{") else {}
        if path == "customer":
            bodies.append(data)
        elif path == "batch":
            bodies += [item["Customer"] for item in data.get("BatchItemRequest", []) if "Customer" in item]
    return bodies


def test_switching_realm_starts_a_clean_mapping_and_never_touches_the_old_company(
    qbo, st, connections, run_dag, state_db, sent, monkeypatch
) -> None:
    realm_a = connections["qbo"]["realm_id"]
    assert realm_a != REALM_B
    seed_st(st, *(st_customer(n, contactEmail=f"{i}@example.com") for i, n in enumerate(NAMES)),
            parts=PARTS, invoices=INVOICES)
    # Old inactive customers in A (never synced, so left alone) push A's customer ids above B's: an A id sent to B
    # would then be visible below.
    seed_qbo(qbo, Customer=[qbo_customer(f"Former client {i}", Active=False) for i in range(5)])

    # 1. Upload, then sync (the invoices), into realm A (the sandbox company).
    run_dag(mode="upload")
    run_dag(mode="sync")
    state_a = qbo_state(qbo)
    a_before = {c["Id"]: c for c in state_a["Customer"] if c.get("Active", True)}
    a_invoices = {i["Id"]: i["SyncToken"] for i in state_a["Invoice"]}
    assert len(a_invoices) == len(INVOICES)
    assert sorted(c["DisplayName"] for c in a_before.values()) == sorted(NAMES)
    a_links = links_by_realm(state_db)[realm_a]
    assert sorted(a_links.values()) == sorted(a_before)

    # 2. The operator connects another company (production): a new grant for realm B, same Synchroteam account.
    grant = qbo.admin("POST", "/_sim/oauth/grant",
                      json={"client_id": "demo-client", "client_secret": "demo-secret", "realm_id": REALM_B})
    grant.raise_for_status()
    assert grant.json()["realm_id"] == REALM_B
    conn = json.loads(os.environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"])
    conn["extra"].update(realm_id=REALM_B, refresh_token=grant.json()["refresh_token"], environment="production")
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_DEFAULT", json.dumps(conn))
    clear_logs(qbo, st)
    sent.clear()

    run_dag(mode="upload")
    run_dag(mode="sync")

    # Realm B received every customer, as creates (no Id, no SyncToken in any body), none of A's ids.
    b_customers = qbo_state(qbo, REALM_B)["Customer"]
    assert sorted(c["DisplayName"] for c in b_customers) == sorted(NAMES)
    assert all(str(c["SyncToken"]) == "0" for c in b_customers), "realm B customers were updated, not created"
    writes_b = customer_writes(sent, REALM_B)
    assert len(writes_b) == len(NAMES)
    # ... and every invoice, each on realm B's customer of the same name (the ledger of realm A is not reused).
    state_b = qbo_state(qbo, REALM_B)
    b_names = {str(c["Id"]): c["DisplayName"] for c in state_b["Customer"]}
    assert sorted(b_names[str(i["CustomerRef"]["value"])] for i in state_b["Invoice"]) == \
        sorted(inv["customer"]["name"] for inv in INVOICES)
    assert all(str(i["SyncToken"]) == "0" for i in state_b["Invoice"])
    assert all("Id" not in body and "SyncToken" not in body for body in writes_b), writes_b

    # No request of the second run went to realm A; nothing in A changed.
    assert not [c for c in sent if f"/v3/company/{realm_a}/" in c["url"]]
    assert not [r for r in qbo.requests_log() if r.get("realm") == realm_a or f"/company/{realm_a}/" in r["path"]]
    state_a_after = qbo_state(qbo)
    a_after = {c["Id"]: c for c in state_a_after["Customer"] if c.get("Active", True)}
    assert {i: c["SyncToken"] for i, c in a_after.items()} == {i: c["SyncToken"] for i, c in a_before.items()}
    assert {i["Id"]: i["SyncToken"] for i in state_a_after["Invoice"]} == a_invoices

    # No realm-A id sent to realm B, in a URL or a body (ids of both realms may coincide as numbers, so compare
    # only ids that B does not own).
    b_ids = {str(c["Id"]) for c in b_customers}
    b_all = b_ids | {str(o["Id"]) for coll in ("Invoice", "Item") for o in state_b.get(coll, [])}
    a_all = set(a_before) | set(a_invoices) | {str(o["Id"]) for o in state_a.get("Item", [])}
    foreign = a_all - b_all
    assert set(a_before) <= foreign, "realm A's customer ids must differ from B's for this check to mean anything"
    for call in sent:
        if f"/v3/company/{REALM_B}/" not in call["url"]:
            continue
        for rid in foreign:
            pattern = re.compile(rf"(/(customer|invoice|item)/{rid}\b|\"(Id|value)\":\s*\"{rid}\")")
            assert not pattern.search(call["url"] + (call["body"] or "")), (rid, call["url"])

    # The state DB: B has links of its own, A's links are still there (for audit), unchanged.
    links = links_by_realm(state_db)
    assert links[realm_a] == a_links
    assert sorted(links[REALM_B].values()) == sorted(b_ids)
    assert set(links[REALM_B]) == set(a_links)  # the same Synchroteam customers, linked afresh

    # Synchroteam was not written by either upload (its myId never carries a realm id it did not get from B).
    assert st.writes() == []
