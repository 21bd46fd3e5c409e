"""QuickBooks simulator: OAuth 2.0 (authorize, token, rotation, revoke) and the gateway's 401/403 answers."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from test_qbo_sim_support import CLIENT, QboApi, advance, connect, token_request

REDIRECT = "https://app.example.com/callback"
SCOPE = "com.intuit.quickbooks.accounting"


@pytest.fixture()
def qapi(qbo: Any) -> QboApi:
    return connect(qbo)


def grant(qbo: Any, **extra: str) -> dict[str, str]:
    resp = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": CLIENT[0], "client_secret": CLIENT[1], **extra})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"realm_id", "refresh_token"}
    return dict(body)


def refresh(qbo: Any, token: str, auth: tuple[str, str] = CLIENT) -> requests.Response:
    return token_request(qbo.url, {"grant_type": "refresh_token", "refresh_token": token}, auth=auth)


def assert_oauth_error(resp: requests.Response, error: str, status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error and isinstance(body["error_description"], str)


def assert_gateway_401(resp: requests.Response, detail_start: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    body = resp.json()
    assert body["fault"]["type"] == "AUTHENTICATION"
    error = body["fault"]["error"][0]
    assert error["code"] == "3200"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error["detail"].startswith(detail_start)
    assert body["batchItemResponse"] == [] and isinstance(body["time"], int)


def test_refresh_grant_answers_the_real_fields(qbo: Any) -> None:
    resp = refresh(qbo, grant(qbo)["refresh_token"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"token_type", "access_token", "expires_in", "refresh_token", "x_refresh_token_expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["access_token"].startswith("eyJ") and body["refresh_token"].startswith("RT1-")


def test_hard_expiry_only_on_request(qbo: Any) -> None:
    resp = token_request(qbo.url, {"grant_type": "refresh_token", "refresh_token": grant(qbo)["refresh_token"]},
                         headers={"x-include-refresh-token-hard-expires-in": "true"})
    assert 0 < resp.json()["x_refresh_token_hard_expires_in"] <= 5 * 365 * 86400


def test_client_authentication_is_basic_and_form_encoded(qbo: Any) -> None:
    token = grant(qbo)["refresh_token"]
    assert_oauth_error(refresh(qbo, token, auth=(CLIENT[0], "wrong")), "invalid_client", 401)
    resp = requests.post(f"{qbo.url}/oauth2/v1/tokens/bearer", json={"grant_type": "refresh_token",
                                                                     "refresh_token": token}, auth=CLIENT, timeout=30)
    assert_oauth_error(resp, "invalid_request")
    assert_oauth_error(token_request(qbo.url, {"grant_type": "password"}), "unsupported_grant_type")
    assert_oauth_error(token_request(qbo.url, {"refresh_token": token}), "invalid_request")


def test_grant_makes_any_client_valid(qbo: Any) -> None:
    body = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": "other", "client_secret": "s3cret"}).json()
    assert refresh(qbo, body["refresh_token"], auth=("other", "s3cret")).status_code == 200
    assert_oauth_error(refresh(qbo, body["refresh_token"]), "invalid_grant")  # another client's token


def test_refresh_tokens_rotate_and_the_previous_one_lasts_24_hours(qbo: Any) -> None:
    first = grant(qbo)["refresh_token"]
    second = refresh(qbo, first).json()["refresh_token"]
    assert second != first
    third = refresh(qbo, second).json()["refresh_token"]
    assert third not in (first, second)
    advance(qbo, 23 * 3600)
    assert refresh(qbo, second).status_code == 200  # superseded, still inside the grace period
    advance(qbo, 2 * 3600)
    resp = refresh(qbo, first)
    assert_oauth_error(resp, "invalid_grant")
    assert resp.json()["error_description"] == "Token invalid"


def test_unknown_refresh_token_is_invalid_grant(qbo: Any) -> None:
    resp = refresh(qbo, "RT1-00-H0-0000000000notarealtokenatall")
    assert_oauth_error(resp, "invalid_grant")
    assert resp.json()["error_description"] == "Incorrect or invalid refresh token"


def test_access_token_expires_after_3600_seconds(qbo: Any, qapi: QboApi) -> None:
    assert qapi.get("/preferences").status_code == 200
    advance(qbo, 3601)
    assert_gateway_401(qapi.get("/preferences"), "Token expired: ")


def test_missing_and_malformed_bearer_tokens_are_401(qapi: QboApi) -> None:
    resp = requests.get(qapi.base + "/preferences", timeout=30)
    assert_gateway_401(resp, "Authorization header")
    resp = requests.get(qapi.base + "/preferences", headers={"Authorization": "Bearer short"}, timeout=30)
    assert_gateway_401(resp, "Malformed bearer token: too short or too long")
    resp = requests.get(qapi.base + "/preferences", headers={"Authorization": "Bearer " + "x" * 60}, timeout=30)
    assert_gateway_401(resp, "Token invalid")


def test_token_of_another_realm_is_403(qbo: Any, qapi: QboApi) -> None:
    other = connect(qbo, realm_id="4620816365000000001")
    assert other.realm_id == "4620816365000000001"
    assert other.get("/preferences").status_code == 200
    resp = requests.get(qapi.base + "/preferences", headers=other.headers(), timeout=30)
    assert resp.status_code == 403, resp.text
    error = resp.json()["fault"]["error"][0]
    assert error["code"] == "3100" and "ApplicationAuthorizationFailed" in error["message"]
    assert resp.json()["fault"]["type"] == "SERVICE"


def test_realms_are_isolated(qbo: Any, qapi: QboApi) -> None:
    other = connect(qbo, realm_id="4620816365000000002")
    other.create("Customer", {"DisplayName": "Only Here"})
    assert qapi.create("Customer", {"DisplayName": "Only Here"})["Id"] == "1"
    state = qbo.admin("GET", "/_sim/state?realm=4620816365000000002").json()
    assert [c["DisplayName"] for c in state["Customer"]] == ["Only Here"]


def test_revoke_kills_the_grant(qbo: Any, qapi: QboApi) -> None:
    resp = requests.post(f"{qbo.url}/v2/oauth2/tokens/revoke", json={"token": qapi.refresh_token}, auth=CLIENT,
                         headers={"Accept": "application/json"}, timeout=30)
    assert resp.status_code == 200
    assert_oauth_error(refresh(qbo, qapi.refresh_token), "invalid_grant")
    assert_gateway_401(qapi.get("/preferences"), "Token invalid")
    unauth = requests.post(f"{qbo.url}/v2/oauth2/tokens/revoke", json={"token": "x"}, timeout=30)
    assert unauth.status_code == 401


def authorize_params(**extra: str) -> dict[str, str]:
    return {"client_id": CLIENT[0], "response_type": "code", "scope": f"{SCOPE} openid", "redirect_uri": REDIRECT,
            "state": "xyz-123", **extra}


def test_authorize_page_and_code_exchange(qbo: Any) -> None:
    page = requests.get(f"{qbo.url}/connect/oauth2", params=authorize_params(), timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Connect" in page.text and "<form" in page.text
    form = {**authorize_params(), "decision": "connect"}
    resp = requests.post(f"{qbo.url}/connect/oauth2", data=form, allow_redirects=False, timeout=30)
    assert resp.status_code == 302
    location = urlparse(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"] == "xyz-123" and query["realmId"] == "9341453050170123" and query["code"]
    bad = token_request(qbo.url, {"grant_type": "authorization_code", "code": query["code"],
                                  "redirect_uri": "https://evil.example.com/"})
    assert_oauth_error(bad, "invalid_grant")
    tokens = token_request(qbo.url, {"grant_type": "authorization_code", "code": query["code"],
                                     "redirect_uri": REDIRECT})
    assert tokens.status_code == 400  # the failed attempt used the one-time code up
    resp = requests.get(f"{qbo.url}/connect/oauth2", params=authorize_params(auto_approve="1"),
                        allow_redirects=False, timeout=30)
    code = parse_qs(urlparse(resp.headers["location"]).query)["code"][0]
    tokens = token_request(qbo.url, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert tokens.status_code == 200 and tokens.json()["expires_in"] == 3600
    again = token_request(qbo.url, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert_oauth_error(again, "invalid_grant")
    api = QboApi(qbo.url, "9341453050170123", tokens.json()["access_token"], tokens.json()["refresh_token"], qbo.admin)
    assert api.get("/preferences").status_code == 200


def test_authorization_codes_expire_after_10_minutes(qbo: Any) -> None:
    resp = requests.get(f"{qbo.url}/connect/oauth2", params=authorize_params(auto_approve="1"),
                        allow_redirects=False, timeout=30)
    code = parse_qs(urlparse(resp.headers["location"]).query)["code"][0]
    advance(qbo, 601)
    late = token_request(qbo.url, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert_oauth_error(late, "invalid_grant")


def test_authorize_denied_and_bad_scope_redirect_with_errors(qbo: Any) -> None:
    resp = requests.post(f"{qbo.url}/connect/oauth2", data={**authorize_params(), "decision": "deny"},
                         allow_redirects=False, timeout=30)
    assert parse_qs(urlparse(resp.headers["location"]).query)["error"] == ["access_denied"]
    resp = requests.get(f"{qbo.url}/connect/oauth2", params=authorize_params(scope="openid"),
                        allow_redirects=False, timeout=30)
    assert parse_qs(urlparse(resp.headers["location"]).query)["error"] == ["invalid_scope"]
    resp = requests.get(f"{qbo.url}/connect/oauth2", params=authorize_params(client_id="nobody"), timeout=30)
    assert resp.status_code == 400


def test_reset_forgets_grants_but_keeps_the_demo_client(qbo: Any) -> None:
    token = grant(qbo)["refresh_token"]
    other = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": "c2", "client_secret": "s2"}).json()
    qbo.reset()
    assert_oauth_error(refresh(qbo, token), "invalid_grant")
    assert_oauth_error(refresh(qbo, other["refresh_token"], auth=("c2", "s2")), "invalid_client", 401)
    assert refresh(qbo, grant(qbo)["refresh_token"]).status_code == 200
    basic = base64.b64encode(b"demo-client:demo-secret").decode()
    resp = requests.post(f"{qbo.url}/oauth2/v1/tokens/bearer", headers={"Authorization": f"Basic {basic}"},
                         data={"grant_type": "refresh_token", "refresh_token": grant(qbo)["refresh_token"]}, timeout=30)
    assert resp.status_code == 200


def test_discovery_document_points_at_the_simulator(qbo: Any) -> None:
    """intuitlib takes a discovery URL as its `environment`: this is how Intuit's own client is pointed here."""
    doc = requests.get(f"{qbo.url}/.well-known/openid_sandbox_configuration", timeout=30).json()
    assert doc["token_endpoint"] == f"{qbo.url}/oauth2/v1/tokens/bearer"
    assert doc["revocation_endpoint"] == f"{qbo.url}/v2/oauth2/tokens/revoke"
    assert doc["authorization_endpoint"] == f"{qbo.url}/connect/oauth2"
    token = grant(qbo)["refresh_token"]
    assert token_request(qbo.url, {"grant_type": "refresh_token", "refresh_token": token}).status_code == 200
