"""Helpers shared by the QuickBooks simulator contract tests (imported by the other test_qbo_sim_* modules).

`qapi` is a connected API client on the reset default realm: a grant made through /_sim/oauth/grant, a real
refresh-token exchange at the token endpoint, then plain `requests` calls with the bearer token, as any
QuickBooks client would make them.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

CLIENT = ("demo-client", "demo-secret")
PACIFIC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[78]:00$")
ENVELOPE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-0[78]:00$")


PER_SECOND = 10
_sent: dict[str, deque[float]] = {}


def pace(realm_id: str) -> None:
    """Keep under the simulator's real 10 requests a second per realm, as a well-behaved client does.

    `connect` starts a realm's pace afresh (it follows a reset or a clock jump, which empty the simulator's
    windows). Tests that want to meet the throttle call `requests` directly instead."""
    sent = _sent.setdefault(realm_id, deque(maxlen=PER_SECOND))
    if len(sent) == PER_SECOND:
        wait = sent[0] + 1.02 - time.time()
        if wait > 0:
            time.sleep(wait)
    sent.append(time.time())


@dataclass
class QboApi:
    url: str
    realm_id: str
    access_token: str
    refresh_token: str
    admin: Any

    @property
    def base(self) -> str:
        return f"{self.url}/v3/company/{self.realm_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}

    def get(self, path: str, **params: Any) -> requests.Response:
        pace(self.realm_id)
        return requests.get(self.base + path, params=params, headers=self.headers(), timeout=30)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        pace(self.realm_id)
        return requests.post(self.base + path, json=body, params=params, headers=self.headers(), timeout=30)

    def query(self, text: str) -> requests.Response:
        return self.get("/query", query=text, minorversion="75")

    def rows(self, text: str, entity: str) -> list[dict[str, Any]]:
        resp = self.query(text)
        assert resp.status_code == 200, resp.text
        return list(resp.json()["QueryResponse"].get(entity, []))

    def create(self, entity: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        resp = self.post(f"/{entity.lower()}", body, **params)
        assert resp.status_code == 200, resp.text
        return dict(resp.json()[entity])

    def seed(self, payload: dict[str, Any]) -> dict[str, Any]:
        resp = self.admin("POST", "/_sim/seed", json=payload)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


def token_request(url: str, data: dict[str, str], auth: tuple[str, str] = CLIENT, **kwargs: Any) -> requests.Response:
    return requests.post(f"{url}/oauth2/v1/tokens/bearer", data=data, auth=auth,
                         headers={"Accept": "application/json", **kwargs.pop("headers", {})}, timeout=30, **kwargs)


def connect(qbo: Any, realm_id: str | None = None, client: tuple[str, str] = CLIENT) -> QboApi:
    body: dict[str, str] = {"client_id": client[0], "client_secret": client[1]}
    if realm_id:
        body["realm_id"] = realm_id
    grant = qbo.admin("POST", "/_sim/oauth/grant", json=body).json()
    tokens = token_request(qbo.url, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
                           auth=client).json()
    _sent.pop(grant["realm_id"], None)
    return QboApi(qbo.url, grant["realm_id"], tokens["access_token"], tokens["refresh_token"], qbo.admin)


def fault_of(resp: requests.Response) -> dict[str, Any]:
    """The single error of a QuickBooks `Fault` body, after checking the envelope's shape."""
    body = resp.json()
    assert set(body) == {"Fault", "time"}, body
    assert ENVELOPE_TIME.match(body["time"]), body["time"]
    fault = body["Fault"]
    assert fault["type"] == "ValidationFault"
    assert isinstance(fault["Error"], list) and len(fault["Error"]) == 1
    error = fault["Error"][0]
    assert set(error) >= {"Message", "Detail", "code", "element"}
    assert isinstance(error["code"], str)
    return dict(error)


def assert_fault(resp: requests.Response, code: str, status: int = 400) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error = fault_of(resp)
    assert error["code"] == code, error
    return error


def assert_entity_shape(obj: dict[str, Any]) -> None:
    """What every stored QBO object carries: string Id/SyncToken, Pacific MetaData, domain, sparse, no nulls."""
    assert isinstance(obj["Id"], str) and obj["Id"]
    assert isinstance(obj["SyncToken"], str) and obj["SyncToken"].isdigit()
    assert obj["domain"] == "QBO" and obj["sparse"] is False
    assert PACIFIC_TIME.match(obj["MetaData"]["CreateTime"]), obj["MetaData"]
    assert PACIFIC_TIME.match(obj["MetaData"]["LastUpdatedTime"]), obj["MetaData"]
    datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])
    for key, value in obj.items():
        assert value is not None and value != "", f"{key} should have been omitted"


def advance(qbo: Any, seconds: float) -> None:
    resp = qbo.admin("POST", "/_sim/clock", json={"advance_seconds": seconds})
    assert resp.status_code == 200, resp.text


def line(item_id: str, qty: float, price: float, tax: str | None = None, amount: float | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": price}
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    value = round(qty * price, 2) if amount is None else amount
    return {"Amount": value, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def make_item(api: QboApi, name: str = "Hours", taxable: bool = False) -> str:
    item = api.create("Item", {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": "1"}, "Taxable": taxable})
    return str(item["Id"])


def make_customer(api: QboApi, name: str = "Amy's Bird Sanctuary", **fields: Any) -> dict[str, Any]:
    return api.create("Customer", {"DisplayName": name, **fields})
