"""Synchroteam simulator: Basic auth, accounts, JSON content negotiation, path case and the error body."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from simulators.synchroteam.testing import StClient


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


def _assert_error(resp: requests.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    return dict(body)


def test_missing_credentials_is_401_with_basic_challenge(st: Any) -> None:
    resp = requests.get(st.url + "/api/v3/customer/list", timeout=10)
    _assert_error(resp, 401)
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="Synchroteam"'
    assert "X-RateLimit-Limit" not in resp.headers


@pytest.mark.parametrize(
    "auth_header",
    [
        "Basic " + base64.b64encode(b"demo:wrong-key").decode(),
        "Basic " + base64.b64encode(b"nosuchdomain:demo-api-key").decode(),
        "Basic " + base64.b64encode(b"demo-api-key").decode(),
        "Basic not-base64!!",
        "Bearer demo-api-key",
    ],
    ids=["wrong-key", "unknown-domain", "no-colon", "garbage", "bearer"],
)
def test_bad_credentials_are_401(st: Any, auth_header: str) -> None:
    resp = requests.get(st.url + "/api/v3/customer/list", headers={"Authorization": auth_header}, timeout=10)
    _assert_error(resp, 401)


def test_domain_is_case_insensitive_but_key_is_not(st: Any) -> None:
    assert StClient(st.url, "DEMO", "demo-api-key").get("customer/list").status_code == 200
    assert StClient(st.url, "demo", "DEMO-API-KEY").get("customer/list").status_code == 401


def test_accounts_are_isolated(st: Any, client: StClient) -> None:
    added = st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "acme", "api_key": "acme-key"}]})
    assert added.json()["accounts"] == [{"domain": "acme", "timezone": "America/New_York", "name_lookup": "prefix"}]
    st.admin("POST", "/_sim/seed?domain=acme",
             json={"customers": [{"name": "Only In Acme", "address": "1 Road"}]}).raise_for_status()
    acme = StClient(st.url, "acme", "acme-key")
    assert [c["name"] for c in acme.ok("GET", "customer/list")["data"]] == ["Only In Acme"]
    assert client.ok("GET", "customer/list")["recordsTotal"] == 0
    assert StClient(st.url, "acme", "demo-api-key").get("customer/list").status_code == 401
    created = acme.ok("POST", "customer/send", json={"name": "Second", "address": "2 Road"})
    assert client.get("customer/details", id=created["id"]).status_code == 404
    state = st.admin("GET", "/_sim/state?domain=acme").json()
    assert sorted(c["name"] for c in state["customers"]) == ["Only In Acme", "Second"]


def test_accounts_survive_reset(st: Any) -> None:
    st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "keepme", "api_key": "k"}]}).raise_for_status()
    st.reset()
    assert StClient(st.url, "keepme", "k").get("customer/list").status_code == 200


@pytest.mark.parametrize("path", ["/api/v3/customer/list", "/Api/v3/customer/list", "/API/V3/Customer/List"])
def test_paths_are_case_insensitive(st: Any, client: StClient, path: str) -> None:
    resp = client.session.get(st.url + path, timeout=10)
    assert resp.status_code == 200
    assert resp.json() == {"page": 1, "pageSize": 25, "records": 0, "recordsTotal": 0, "data": []}


def test_text_json_is_accepted_and_served(st: Any, client: StClient) -> None:
    resp = client.call("POST", "customer/send", data=b'{"name": "Text Json", "address": "1 Road"}',
                       headers={"Content-Type": "text/json", "Accept": "text/json"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "text/json; charset=utf-8"
    assert resp.json()["name"] == "Text Json"
    plain = client.get("customer/list")
    assert plain.headers["Content-Type"] == "application/json; charset=utf-8"


def test_non_json_body_is_406(client: StClient) -> None:
    resp = client.call("POST", "customer/send", data=b"name=x&address=y",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    _assert_error(resp, 406)


def test_accept_without_json_is_406(client: StClient) -> None:
    _assert_error(client.call("GET", "customer/list", headers={"Accept": "application/xml"}), 406)


def test_malformed_json_is_400(client: StClient) -> None:
    resp = client.call("POST", "customer/send", data=b'{"name": "x",', headers={"Content-Type": "application/json"})
    _assert_error(resp, 400)


def test_unknown_route_is_404_with_error_body(client: StClient) -> None:
    _assert_error(client.get("nosuchresource/list"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "customer/send"), ("POST", "customer/details"), ("GET", "customer/delete"), ("POST", "invoice/send"),
     ("DELETE", "invoice/details")],
)
def test_wrong_verb_is_405_or_404_with_error_body(client: StClient, method: str, path: str) -> None:
    resp = client.call(method, path, json={} if method == "POST" else None)
    assert resp.status_code in (404, 405)
    _assert_error(resp, resp.status_code)
    if path != "invoice/send":
        assert resp.status_code == 405


def test_invoices_are_read_only(client: StClient) -> None:
    """No write endpoint exists for invoices: a send is an unknown resource."""
    _assert_error(client.post("invoice/send", {"status": "new"}), 404)
