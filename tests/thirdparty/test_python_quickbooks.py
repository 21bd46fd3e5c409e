"""python-quickbooks 0.9.12 + intuit-oauth 1.2.6, unchanged, against the QuickBooks simulator (issue 12 point 3).

The driver (drivers/python_quickbooks_driver.py) runs in the third-party venv and does what an application does:
refresh a token with intuitlib, create a customer, query it back, update it sparsely with its SyncToken (and once
with a stale one), create an item and an invoice and read them. This test checks what the driver saw against the
simulator's own state and request log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devenv import sims
from tests.conftest import QBO_CLIENT_ID, QBO_CLIENT_SECRET
from tests.thirdparty.harness import reset_to_real, run_driver, write_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def driven(thirdparty_python: Path, qbo_sim: sims.SimProcess,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the driver on a reset simulator with a fresh grant; the tests below read what it left."""
    reset_to_real(qbo_sim)
    grant = qbo_sim.admin("POST", "/_sim/oauth/grant",
                          json={"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET}).json()
    config = write_json(tmp_path_factory.mktemp("pyqb") / "config.json", {
        "sim_url": qbo_sim.url, "client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET,
        "realm_id": grant["realm_id"], "refresh_token": grant["refresh_token"]})
    proc = run_driver(thirdparty_python, "python_quickbooks_driver.py", [str(config)])
    return {"seen": json.loads(proc.stdout), "grant": grant}


@pytest.fixture()
def qbo(qbo_sim: sims.SimProcess) -> sims.SimProcess:
    """The simulator as the driver left it (the suite's own ``qbo`` fixture would reset it)."""
    return qbo_sim


def test_token_refresh_through_intuitlib(driven: dict[str, Any], qbo: sims.SimProcess) -> None:
    token = driven["seen"]["token"]
    assert token["token_endpoint"] == qbo.url + "/oauth2/v1/tokens/bearer"
    assert token["refresh_token_rotated"] is True
    assert token["expires_in"] == 3600
    assert 40 <= token["access_token_length"] <= 4096
    refreshes = [r for r in qbo.requests_log() if r["path"].endswith("/oauth2/v1/tokens/bearer")]
    assert [r["status"] for r in refreshes] == [200]


def test_customer_create_query_sparse_update(driven: dict[str, Any], qbo: sims.SimProcess) -> None:
    seen = driven["seen"]["customer"]
    assert seen["created_sync_token"] == "0"
    assert seen["created_country"] == "USA"  # Q7: the service answers the alpha-3 code
    assert seen["found_ids"] == [seen["id"]] and seen["found_names"] == ["O'Brien Third Party Ltd"]
    assert seen["count"] == 1
    assert seen["updated_sync_token"] == "1"
    assert seen["updated_company"] == "O'Brien Holdings"
    assert seen["updated_given_name"] == "Siobhan"
    assert seen["stale_error"] is not None and seen["stale_error"]["code"] == 5010, seen["stale_error"]

    state = qbo.admin("GET", "/_sim/state").json()
    [stored] = [c for c in state["Customer"] if c["Id"] == seen["id"]]
    assert stored["DisplayName"] == "O'Brien Third Party Ltd"
    assert stored["CompanyName"] == "O'Brien Holdings"
    assert stored["SyncToken"] == "1"
    assert stored["PrimaryEmailAddr"]["Address"] == "siobhan@obrien.example"
    assert stored["BillAddr"]["City"] == "Boston" and stored["BillAddr"]["Country"] == "USA"
    assert "Notes" not in stored  # the stale write changed nothing


def test_item_and_invoice(driven: dict[str, Any], qbo: sims.SimProcess) -> None:
    seen = driven["seen"]
    item, invoice = seen["item"], seen["invoice"]
    assert "Thirdparty Consulting" in item["listed_names"]
    assert invoice["customer_ref"] == seen["customer"]["id"]
    assert invoice["customer_name"] == "O'Brien Third Party Ltd"
    assert invoice["item_lines"] == [{"amount": 360.0, "item": item["id"], "item_name": "Thirdparty Consulting"}]
    assert invoice["total"] == 360.0 and invoice["balance"] == 360.0  # a Service item is not taxable by default
    assert invoice["doc_number"] == "1001"
    assert invoice["note"] == "created by python-quickbooks"
    assert invoice["by_customer_ids"] == [invoice["id"]]

    state = qbo.admin("GET", "/_sim/state").json()
    [stored_item] = [i for i in state["Item"] if i["Id"] == item["id"]]
    assert stored_item["Name"] == "Thirdparty Consulting" and stored_item["Type"] == "Service"
    assert stored_item["UnitPrice"] == 120
    assert stored_item["IncomeAccountRef"]["value"] == item["income_account"]
    [stored_invoice] = [i for i in state["Invoice"] if i["Id"] == invoice["id"]]
    assert stored_invoice["CustomerRef"]["value"] == seen["customer"]["id"]
    assert stored_invoice["TotalAmt"] == 360.0
    assert [ln["SalesItemLineDetail"]["Qty"] for ln in stored_invoice["Line"]
            if ln["DetailType"] == "SalesItemLineDetail"] == [3]
    assert len(state["Invoice"]) == 1 and len(state["Customer"]) == 1


def test_every_call_answered_without_fault(driven: dict[str, Any], qbo: sims.SimProcess) -> None:
    """The stale update is the one refusal; no 4xx/5xx otherwise (a 401 would mean the token was not used)."""
    log = qbo.requests_log()
    refused = [(r["method"], r["path"], r["status"]) for r in log if r["status"] != 200]
    assert refused == [("POST", f"/v3/company/{driven['grant']['realm_id']}/customer", 400)]
    assert sum(1 for r in log if r["method"] == "POST" and r["path"].endswith("/invoice")) == 1
