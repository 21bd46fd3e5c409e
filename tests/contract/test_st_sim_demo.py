"""Synchroteam simulator: `--seed demo` holds the awkward cases the connector must meet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from devenv import sims
from simulators.synchroteam.testing import StClient

SHARED_WITH_QBO = ["Amy's Bird Sanctuary", "Cool Cars", "Freeman Sporting Goods", "Geeta Kalapatapu",
                   "Jeff's Jalopies", "Rondonuwu Fruit and Vegi", "Sushi by Katsuyuki", "Books by Bessie"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A second simulator process started with `--seed demo`, read once through the API."""
    sim = sims.start("synchroteam", seed="demo", log_path=tmp_path_factory.mktemp("st-demo") / "sim.log")
    try:
        client = StClient(sim.url)
        yield {
            "customers": client.list_all("customer") + client.list_all("customer", active="false"),
            "invoices": client.list_all("invoice"),
            "parts": client.list_all("part"),
            "client": client,
            "limits": sim.admin("GET", "/_sim/limits").json(),
            "account": sim.admin("GET", "/_sim/account").json(),
        }
    finally:
        sim.stop()


def test_customers_with_contacts_and_awkward_names(demo: dict[str, Any]) -> None:
    customers = demo["customers"]
    names = Counter(c["name"] for c in customers)
    assert 35 <= len(customers) <= 45
    for name in SHARED_WITH_QBO:
        assert names[name] == 1, name
    assert names["Smith Plumbing"] == 2
    smiths = [c for c in customers if c["name"] == "Smith Plumbing"]
    assert smiths[0]["contactEmail"] != smiths[1]["contactEmail"]
    assert names["Acme: North Branch"] == 1 and names["Crème de l'Été Pâtisserie"] == 1
    with_contact = [c for c in customers if c["contactFirstName"] and c["contactLastName"]]
    assert len(with_contact) == len(customers)
    assert sum(1 for c in customers if c["contactEmail"]) >= 30
    assert any(not c["active"] for c in customers)
    assert all(c["address"] for c in customers)


def test_parts_and_services(demo: dict[str, Any]) -> None:
    parts = {p["reference"]: p for p in demo["parts"]}
    assert (parts["SVC-HOUR"]["type"], parts["SVC-HOUR"]["price"], parts["SVC-HOUR"]["tax"]) == ("service", "85.00",
                                                                                                 None)
    assert (parts["PART-FILTER"]["type"], parts["PART-FILTER"]["price"]) == ("part", "12.50")
    assert parts["PART-FILTER"]["tax"]["name"] == "CA Sales Tax" and parts["PART-FILTER"]["tax"]["tax"] == "8"
    assert {"PART-VALVE", "SVC-CALLOUT"} <= set(parts)


def test_invoices_cover_every_status_and_edge(demo: dict[str, Any]) -> None:
    invoices = demo["invoices"]
    assert 18 <= len(invoices) <= 25
    statuses = Counter(i["status"] for i in invoices)
    assert set(statuses) == {"draft", "new", "sent", "paid", "late"} and statuses["draft"] == 3
    assert all(i["num"] is None for i in invoices if i["status"] == "draft")
    assert all(isinstance(i["num"], int) for i in invoices if i["status"] != "draft")
    lines = [line for i in invoices for line in i["lines"]]
    assert any(line["discount"] > 0 for line in lines)
    assert any(line["partProductCode"] is None and line["description"] for line in lines)
    customers = {i["customer"]["name"] for i in invoices}
    assert customers & set(SHARED_WITH_QBO) and customers - set(SHARED_WITH_QBO)
    assert "Smith Plumbing" in customers
    assert all(i["datePaid"] for i in invoices if i["status"] == "paid")
    for inv in invoices:
        assert round(sum(line["total"] for line in inv["lines"]), 2) == inv["total"]
    created = [i["dateCreated"] for i in invoices]
    assert created == sorted(created, reverse=True)


def test_demo_account_is_in_new_york_with_prefix_lookups(demo: dict[str, Any]) -> None:
    """The real service's behaviour is the demo's default (issue 12); only callers that run today's connector
    turn it off (devenv.sims.ST_CONNECTOR_COMPAT)."""
    assert (demo["account"]["timezone"], demo["account"]["name_lookup"]) == ("America/New_York", "prefix")
    client = demo["client"]
    assert client.ok("GET", "customer/details", params={"name": "smith"})["name"] == "Smith Plumbing"
    now = client.local_now().strftime("%Y-%m-%d %H:%M")
    assert max(c["dateModified"] for c in demo["customers"]) <= now  # seeded in the past, in local time
    assert max(i["dateModified"] for i in demo["invoices"]) <= now


def test_default_limits(demo: dict[str, Any]) -> None:
    """A fresh process starts with the documented (invented) defaults."""
    assert demo["limits"] == {"requests_per_minute": 120, "daily_quota": 50000}
