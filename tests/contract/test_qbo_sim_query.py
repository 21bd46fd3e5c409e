"""QuickBooks simulator: the query language (GET and POST forms), paging, escaping, inactive records."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from test_qbo_sim_support import (
    ENVELOPE_TIME,
    QboApi,
    assert_fault,
    connect,
)


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)

NAMES = ["Amy's Bird Sanctuary", "Bill's Windsurf Shop", "Cool Cars", "Diego Rodriguez", "Dukes Basketball Camp",
         "Freeman Sporting Goods", "Geeta Kalapatapu", "Jeff's Jalopies", "Kate Whelan", "Mark Cho"]


@pytest.fixture()
def ten(qapi: QboApi) -> QboApi:
    customers = [{"DisplayName": n, "GivenName": n.split()[0], "Balance": i * 10,
                  "PrimaryEmailAddr": {"Address": f"c{i}@example.com"}} for i, n in enumerate(NAMES)]
    customers.append({"DisplayName": "Weiskopf Consulting (deleted)", "Active": False})
    qapi.seed({"Customer": customers})
    return qapi


def names(api: QboApi, text: str) -> list[str]:
    return [c["DisplayName"] for c in api.rows(text, "Customer")]


def test_select_all_shape_and_inactive_hidden(ten: QboApi) -> None:
    resp = ten.query("SELECT * FROM Customer")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"QueryResponse", "time"} and ENVELOPE_TIME.match(body["time"])
    response = body["QueryResponse"]
    assert set(response) == {"Customer", "startPosition", "maxResults"}
    assert response["startPosition"] == 1 and response["maxResults"] == 10
    assert [c["DisplayName"] for c in response["Customer"]] == NAMES


def test_inactive_records_on_request(ten: QboApi) -> None:
    assert names(ten, "select * from Customer where Active = false") == ["Weiskopf Consulting (deleted)"]
    assert len(names(ten, "select * from Customer where Active IN (true, false)")) == 11


def test_count(ten: QboApi) -> None:
    body = ten.query("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)").json()
    assert body["QueryResponse"] == {"totalCount": 11}
    assert ten.query("select count(*) from Customer").json()["QueryResponse"] == {"totalCount": 10}


def test_empty_result_shape(ten: QboApi) -> None:
    body = ten.query("select * from Customer where DisplayName = 'Nobody'").json()
    assert body["QueryResponse"] == {}


def test_backslash_escaped_quote_and_ampersand(ten: QboApi) -> None:
    assert names(ten, "select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'") == ["Amy's Bird Sanctuary"]
    ten.create("Customer", {"DisplayName": "Hudson & Sons"})
    assert names(ten, "select * from Customer where DisplayName = 'Hudson & Sons'") == ["Hudson & Sons"]


def test_values_compare_case_sensitively(ten: QboApi) -> None:
    assert names(ten, "select * from Customer where DisplayName = 'cool cars'") == []


@pytest.mark.parametrize(("where", "expected"), [
    ("Balance > '50'", ["Geeta Kalapatapu", "Jeff's Jalopies", "Kate Whelan", "Mark Cho"]),
    ("Balance >= '80'", ["Kate Whelan", "Mark Cho"]),
    ("Balance < '20'", ["Amy's Bird Sanctuary", "Bill's Windsurf Shop"]),
    ("Balance <= '0'", ["Amy's Bird Sanctuary"]),
    ("DisplayName IN ('Cool Cars', 'Mark Cho', 'Nobody')", ["Cool Cars", "Mark Cho"]),
    ("DisplayName LIKE 'D%'", ["Diego Rodriguez", "Dukes Basketball Camp"]),
    ("DisplayName LIKE '%Car%'", ["Cool Cars"]),
    ("GivenName = 'Kate' AND Balance > '10'", ["Kate Whelan"]),
    ("PrimaryEmailAddr = 'c2@example.com'", ["Cool Cars"]),
    ("Id IN ('1', '3')", ["Amy's Bird Sanctuary", "Cool Cars"]),
])
def test_where_operators(ten: QboApi, where: str, expected: list[str]) -> None:
    assert names(ten, f"select * from Customer where {where}") == expected


def test_keywords_and_names_are_case_insensitive(ten: QboApi) -> None:
    assert names(ten, "sElEcT * FrOm customer WhErE displayname = 'Cool Cars'") == ["Cool Cars"]
    assert names(ten, "select * from Customer Where metadata.lastupdatedtime > '2000-01-01'") == NAMES


def test_order_by_and_paging(ten: QboApi) -> None:
    assert names(ten, "select * from Customer ORDERBY Balance DESC MAXRESULTS 2") == ["Mark Cho", "Kate Whelan"]
    assert names(ten, "select * from Customer order by DisplayName desc startposition 2 maxresults 1") == ["Kate Whelan"]
    body = ten.query("select * from Customer MAXRESULTS 3 STARTPOSITION 9").json()["QueryResponse"]
    assert body["startPosition"] == 9 and body["maxResults"] == 2
    assert [c["DisplayName"] for c in body["Customer"]] == NAMES[8:]


def test_paging_walks_every_record_once(ten: QboApi) -> None:
    seen: list[str] = []
    for start in range(1, 12, 3):
        seen += names(ten, f"select * from Customer startposition {start} maxresults 3")
    assert seen == NAMES


def test_maxresults_is_capped_at_1000(ten: QboApi) -> None:
    error = assert_fault(ten.query("select * from Customer maxresults 1001"), "4001")
    assert "1000" in error["Detail"]
    assert ten.query("select * from Customer maxresults 1000").status_code == 200


def test_default_page_is_100(qapi: QboApi) -> None:
    qapi.seed({"Customer": [{"DisplayName": f"Customer {i:03d}"} for i in range(150)]})
    assert len(qapi.rows("select * from Customer", "Customer")) == 100


def test_post_form_with_application_text(ten: QboApi) -> None:
    resp = requests.post(ten.base + "/query", data="select * from Customer where DisplayName = 'Cool Cars'",
                         headers={**ten.headers(), "Content-Type": "application/text"}, params={"minorversion": 75},
                         timeout=30)
    assert resp.status_code == 200
    assert [c["DisplayName"] for c in resp.json()["QueryResponse"]["Customer"]] == ["Cool Cars"]


@pytest.mark.parametrize("text", [
    "select * Customer",
    "select DisplayName from Customer",
    "select * from Customer where DisplayName = 'unterminated",
    "select * from Customer where DisplayName = 'A' OR DisplayName = 'B'",
    "select * from Customer where DisplayName != 'A'",
    "select * from Customer maxresults ten",
    "",
])
def test_unparseable_query_is_4000(ten: QboApi, text: str) -> None:
    error = assert_fault(ten.query(text), "4000")
    assert error["Message"] == "Error parsing query" and error["Detail"].startswith("QueryParserError")


@pytest.mark.parametrize("text", [
    "select * from Customers",
    "select * from Customer where Nickname = 'x'",
    "select * from Customer where Id > '3'",
    "select * from Customer orderby Nickname",
    "select * from Customer where Balance LIKE '1%'",
])
def test_invalid_query_is_4001(ten: QboApi, text: str) -> None:
    error = assert_fault(ten.query(text), "4001")
    assert error["Detail"].startswith("QueryValidationError")


def test_time_filter_with_offset(ten: QboApi) -> None:
    first = ten.rows("select * from Customer where DisplayName = 'Cool Cars'", "Customer")[0]
    stamp = first["MetaData"]["LastUpdatedTime"]
    ten.admin("POST", "/_sim/clock", json={"advance_seconds": 120})
    changed = ten.create("Customer", {"Id": first["Id"], "SyncToken": "0", "sparse": True, "Notes": "later"})
    rows = names(ten, f"select * from Customer where MetaData.LastUpdatedTime > '{stamp}'")
    assert rows == ["Cool Cars"]
    rows = names(ten, "select * from Customer where Metadata.LastUpdatedTime >= "
                      f"'{changed['MetaData']['LastUpdatedTime']}' ORDER BY Metadata.LastUpdatedTime ASC")
    assert rows == ["Cool Cars"]
