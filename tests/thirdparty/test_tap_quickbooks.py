"""singer tap-quickbooks 2.5.0, unchanged, against the QuickBooks simulator (issue 12 point 3).

The tap runs as its console script would (drivers/tap_quickbooks_driver.py only points its two host constants at
the simulator): ``--discover`` writes a catalog; with Customer, Invoice and Item (and the CDC-based
deleted_objects) selected a full extract emits the seeded records and a STATE; after a person edits one customer
and deletes one invoice, an incremental run from that STATE emits the edit, the deletion and, because the tap's
query is ``LastUpdatedTime >= bookmark``, the records sitting exactly on each bookmark again, and nothing else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from devenv import sims
from tests.conftest import QBO_CLIENT_ID, QBO_CLIENT_SECRET
from tests.thirdparty.harness import reset_to_real, run_driver, write_json

pytestmark = pytest.mark.slow

PACIFIC = ZoneInfo("America/Los_Angeles")  # QuickBooks' MetaData times are US Pacific with an offset
STREAMS = ("customers", "invoices", "items")
SELECTED = (*STREAMS, "deleted_objects")  # deleted_objects asks CDC for 24 entity types in one call (facts Q6)


def pacific(moment: datetime) -> str:
    return moment.astimezone(PACIFIC).replace(microsecond=0).isoformat()


def seed_payload(now: datetime) -> dict[str, Any]:
    """Records changed on distinct days (so each stream's bookmark sits on exactly one record)."""
    def meta(days_ago: float) -> dict[str, str]:
        at = pacific(now - timedelta(days=days_ago))
        return {"CreateTime": at, "LastUpdatedTime": at}

    return {
        "Item": [
            {"Id": "21", "Name": "Hours", "Type": "Service", "UnitPrice": 85, "IncomeAccountRef": {"value": "1"},
             "MetaData": meta(9)},
            {"Id": "22", "Name": "Filter", "Type": "NonInventory", "UnitPrice": 12.5, "Taxable": True,
             "IncomeAccountRef": {"value": "2"}, "MetaData": meta(8)},
        ],
        "Customer": [
            {"Id": "31", "DisplayName": "Alpha Plumbing", "CompanyName": "Alpha Plumbing LLC", "MetaData": meta(7)},
            {"Id": "32", "DisplayName": "Beta Heating", "MetaData": meta(6)},
            {"Id": "33", "DisplayName": "Gamma Cooling", "MetaData": meta(5)},
            {"Id": "34", "DisplayName": "Delta Vents", "Active": False, "MetaData": meta(4)},
        ],
        "Invoice": [
            {"Id": "41", "CustomerRef": {"value": "31"}, "MetaData": meta(3),
             "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 170,
                       "SalesItemLineDetail": {"ItemRef": {"value": "21"}, "Qty": 2, "UnitPrice": 85}}]},
            {"Id": "43", "CustomerRef": {"value": "33"}, "MetaData": meta(2.5),
             "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 85,
                       "SalesItemLineDetail": {"ItemRef": {"value": "21"}, "Qty": 1, "UnitPrice": 85}}]},
            {"Id": "42", "CustomerRef": {"value": "32"}, "MetaData": meta(2),
             "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 25,
                       "SalesItemLineDetail": {"ItemRef": {"value": "22"}, "Qty": 2, "UnitPrice": 12.5}}]},
        ],
    }


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def records(msgs: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"] for m in msgs if m["type"] == "RECORD" and m["stream"] == stream]


def last_state(msgs: list[dict[str, Any]]) -> dict[str, Any]:
    states = [m["value"] for m in msgs if m["type"] == "STATE"]
    assert states, "the tap wrote no STATE message"
    return dict(states[-1])


class Tap:
    """The tap's files (config the tap rewrites with each refreshed token, catalog, state) and how to run it."""

    def __init__(self, python: Path, sim: sims.SimProcess, workdir: Path) -> None:
        self.python, self.sim, self.dir = python, sim, workdir
        self.config = workdir / "config.json"
        self.catalog = workdir / "catalog.json"

    def run(self, *args: str) -> list[dict[str, Any]]:
        proc = run_driver(self.python, "tap_quickbooks_driver.py", [self.sim.url, "--config", str(self.config),
                                                                     *args], timeout=300)
        return messages(proc.stdout) if "--discover" not in args else [json.loads(proc.stdout)]


@pytest.fixture(scope="module")
def tap_run(thirdparty_python: Path, qbo_sim: sims.SimProcess,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Discover, full extract, a person's edit and deletion, incremental extract: one pass, checked below."""
    reset_to_real(qbo_sim)
    now = datetime.now(PACIFIC)
    seeded = qbo_sim.admin("POST", "/_sim/seed", json=seed_payload(now))
    assert seeded.status_code == 200, seeded.text
    grant = qbo_sim.admin("POST", "/_sim/oauth/grant",
                          json={"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET}).json()
    tap = Tap(thirdparty_python, qbo_sim, tmp_path_factory.mktemp("tap"))
    write_json(tap.config, {"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET,
                            "realm_id": grant["realm_id"], "refresh_token": grant["refresh_token"],
                            # within CDC's 30-day look-back, which deleted_objects starts from
                            "start_date": (now - timedelta(days=20)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "user_agent": "stqbo third-party test",
                            "sandbox": True})
    out: dict[str, Any] = {"grant": grant}

    [catalog] = tap.run("--discover")
    out["catalog"] = catalog
    out["config_after_discover"] = json.loads(tap.config.read_text())
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] in SELECTED:
            [top] = [m for m in stream["metadata"] if m["breadcrumb"] == []]
            top["metadata"]["selected"] = True
    write_json(tap.catalog, catalog)

    out["full"] = tap.run("--catalog", str(tap.catalog))
    state = write_json(tap.dir / "state.json", last_state(out["full"]))

    qbo_sim.admin("POST", "/_sim/clock", json={"advance_seconds": 60}).raise_for_status()
    edit = qbo_sim.admin("PATCH", "/_sim/Customer/31", json={"CompanyName": "Alpha Plumbing & Sons"})
    assert edit.status_code == 200, edit.text
    out["edited"] = edit.json()["Customer"]
    deleted = qbo_sim.admin("DELETE", "/_sim/Invoice/43")
    assert deleted.status_code == 200, deleted.text
    qbo_sim.admin("DELETE", "/_sim/requests").raise_for_status()
    out["incremental"] = tap.run("--catalog", str(tap.catalog), "--state", str(state))
    out["incremental_log"] = qbo_sim.requests_log()
    out["state_store"] = qbo_sim.admin("GET", "/_sim/state").json()
    return out


def test_discover_catalog(tap_run: dict[str, Any]) -> None:
    catalog = tap_run["catalog"]
    by_id = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert len(by_id) == 31 and set(STREAMS) <= set(by_id)
    for name in STREAMS:
        stream = by_id[name]
        assert stream["key_properties"] == ["Id"]
        [top] = [m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == []]
        assert top["forced-replication-method"] == "INCREMENTAL" and top["valid-replication-keys"] == ["MetaData"]
        assert {"Id", "MetaData", "SyncToken"} <= set(stream["schema"]["properties"])
    assert "DisplayName" in by_id["customers"]["schema"]["properties"]
    assert "CustomerRef" in by_id["invoices"]["schema"]["properties"]
    # discovery checked its authorisation with a real call, and stored the rotated refresh token as it does live
    assert tap_run["config_after_discover"]["refresh_token"] != tap_run["grant"]["refresh_token"]


def test_full_extract_emits_every_seeded_record(tap_run: dict[str, Any]) -> None:
    full = tap_run["full"]
    assert {m["stream"] for m in full if m["type"] == "SCHEMA"} == set(SELECTED)
    customers = records(full, "customers")
    assert [c["Id"] for c in customers] == ["31", "32", "33", "34"]  # oldest change first, inactive included
    assert [c["DisplayName"] for c in customers] == ["Alpha Plumbing", "Beta Heating", "Gamma Cooling",
                                                     "Delta Vents (deleted)"]
    assert customers[0]["CompanyName"] == "Alpha Plumbing LLC" and customers[3]["Active"] is False
    items = records(full, "items")
    assert [(i["Id"], i["Name"], i["Type"]) for i in items] == [("21", "Hours", "Service"),
                                                               ("22", "Filter", "NonInventory")]
    invoices = records(full, "invoices")
    assert [(i["Id"], i["CustomerRef"]["value"], i["DocNumber"]) for i in invoices] == [
        ("41", "31", "1001"), ("43", "33", "1002"), ("42", "32", "1003")]
    assert [float(i["TotalAmt"]) for i in invoices] == [170.0, 85.0, 25.0 + 2.0]  # Filter is taxable: 8 % of 25
    assert records(full, "deleted_objects") == []


def test_full_extract_state_bookmarks_the_last_change_of_each_stream(tap_run: dict[str, Any]) -> None:
    store = {etype: {o["Id"]: o for o in tap_run["state_store"][etype]} for etype in ("Customer", "Item", "Invoice")}
    bookmarks = last_state(tap_run["full"])["bookmarks"]
    assert set(bookmarks) == set(STREAMS)  # deleted_objects is bookmarked only once it has found a deletion
    assert bookmarks["customers"]["LastUpdatedTime"] == store["Customer"]["34"]["MetaData"]["LastUpdatedTime"]
    assert bookmarks["items"]["LastUpdatedTime"] == store["Item"]["22"]["MetaData"]["LastUpdatedTime"]
    assert bookmarks["invoices"]["LastUpdatedTime"] == store["Invoice"]["42"]["MetaData"]["LastUpdatedTime"]


def test_incremental_extract_emits_only_the_edit_and_the_bookmarked_records(tap_run: dict[str, Any]) -> None:
    inc = tap_run["incremental"]
    edited = tap_run["edited"]
    customers = records(inc, "customers")
    # "34" sits on the customers bookmark (the tap asks for >=); "31" is the person's edit; 32 and 33 are not sent
    assert [c["Id"] for c in customers] == ["34", "31"]
    assert customers[1]["CompanyName"] == "Alpha Plumbing & Sons" and customers[1]["SyncToken"] == edited["SyncToken"]
    assert [i["Id"] for i in records(inc, "items")] == ["22"]
    assert [i["Id"] for i in records(inc, "invoices")] == ["42"]  # 43 is deleted: gone from queries
    assert [(d["Id"], d["Type"]) for d in records(inc, "deleted_objects")] == [("43", "Invoice")]
    bookmarks = last_state(inc)["bookmarks"]
    assert bookmarks["customers"]["LastUpdatedTime"] == edited["MetaData"]["LastUpdatedTime"]
    assert bookmarks["items"] == last_state(tap_run["full"])["bookmarks"]["items"]
    assert bookmarks["invoices"] == last_state(tap_run["full"])["bookmarks"]["invoices"]
    deletion = records(inc, "deleted_objects")[0]["MetaData"]["LastUpdatedTime"]  # the record is in UTC
    assert instant(bookmarks["deleted_objects"]["LastUpdatedTime"]) == instant(deletion)


def test_incremental_run_calls(tap_run: dict[str, Any]) -> None:
    """One token refresh (with the token the previous run stored), one batch with rows, one that ends the loop,
    one CDC call naming 24 entity types; every call answered 200 under the real limits."""
    log = tap_run["incremental_log"]
    company = f"/v3/company/{tap_run['grant']['realm_id']}"
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/oauth2/v1/tokens/bearer", 200),
        ("POST", company + "/batch", 200),
        ("POST", company + "/batch", 200),
        ("GET", company + "/cdc", 200),
    ]
    entities = parse_qs(log[3]["query"])["entities"][0].split(",")
    assert len(entities) == 24 and {"Customer", "Invoice", "Item", "Budget", "Term"} <= set(entities)
