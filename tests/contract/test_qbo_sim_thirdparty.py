"""QuickBooks simulator: what real third-party clients send and the real service accepts (issue 12 point 3).

tests/thirdparty runs python-quickbooks and tap-quickbooks unchanged against the simulator; each simulator fix they
needed is pinned down here without them. python-quickbooks 0.9.12 asks for items as ``SELECT *, Sku FROM Item``
(its ``Item.all()``, routablehq/python-quickbooks PR #379, checked against the real service there).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_qbo_sim_support import QboApi, assert_fault, connect


@pytest.fixture()
def items(qbo: Any) -> QboApi:
    api = connect(qbo)
    api.seed({"Item": [
        {"Name": "Hours", "Sku": "SVC-HOUR", "Type": "Service", "IncomeAccountRef": {"value": "1"}},
        {"Name": "Filter", "Type": "NonInventory", "IncomeAccountRef": {"value": "2"}},
        {"Name": "Old Part", "Sku": "OLD-1", "Type": "Service", "IncomeAccountRef": {"value": "1"}, "Active": False},
    ]})
    return api


def test_star_with_named_properties_answers_whole_objects(items: QboApi) -> None:
    plain = items.rows("SELECT * FROM Item", "Item")
    with_sku = items.rows("SELECT *, Sku FROM Item", "Item")
    assert with_sku == plain
    assert [(i["Name"], i.get("Sku")) for i in with_sku] == [("Filter", None), ("Hours", "SVC-HOUR")]


def test_named_properties_keep_the_rest_of_the_query(items: QboApi) -> None:
    rows = items.rows("select *, sku, Name from Item where Active IN (true, false) orderby Name desc "
                      "startposition 2 maxresults 1", "Item")
    assert [i["Name"] for i in rows] == ["Hours"]
    assert items.query("SELECT *, Sku FROM Item WHERE Sku = 'SVC-HOUR'").json()["QueryResponse"]["Item"][0][
        "Name"] == "Hours"


def test_named_property_must_exist(items: QboApi) -> None:
    error = assert_fault(items.query("SELECT *, Nickname FROM Item"), "4001")
    assert error["Detail"].startswith("QueryValidationError") and "Nickname" in error["Detail"]


@pytest.mark.parametrize("text", [
    "SELECT *, FROM Item",
    "SELECT *, 'Sku' FROM Item",
    "SELECT *, Sku, FROM Item",
    "SELECT Sku, * FROM Item",
    "SELECT COUNT(*), Sku FROM Item",
])
def test_malformed_property_lists_are_4000(items: QboApi, text: str) -> None:
    error = assert_fault(items.query(text), "4000")
    assert error["Message"] == "Error parsing query"


def test_unmodelled_entity_with_named_properties_is_empty(items: QboApi) -> None:
    body = items.query("SELECT *, TotalAmt FROM Bill").json()
    assert body["QueryResponse"] == {}
