"""OAuth 2.0 as Intuit runs it: authorize page, token endpoint (code and refresh grants), revoke.

Refresh tokens rotate on every refresh; the previous one keeps working for 24 hours of simulator time and then
answers `invalid_grant`, which is the harshest reading of Intuit's wording and what connectors must survive.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from simulators.quickbooks.core import Clock

if TYPE_CHECKING:
    from simulators.quickbooks.app import Simulator

ACCESS_TTL = 3600
REFRESH_IDLE_TTL = 8_726_400
REFRESH_HARD_TTL = 5 * 365 * 86400
ROTATION_GRACE = 86400
CODE_TTL = 600
SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_CLIENT = ("demo-client", "demo-secret")


@dataclass
class RefreshToken:
    client_id: str
    realm_id: str
    grant_id: str
    last_used: float
    hard_expiry: float
    superseded_at: float | None = None


@dataclass
class AccessToken:
    client_id: str
    realm_id: str
    grant_id: str
    expires: float


@dataclass
class OAuthStore:
    clock: Clock
    clients: dict[str, str] = field(default_factory=lambda: dict([DEFAULT_CLIENT]))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.clients = dict([DEFAULT_CLIENT])
        self.codes.clear()
        self.refresh.clear()
        self.access.clear()
        self.current.clear()
        self.revoked.clear()

    def new_refresh_token(self, client_id: str, realm_id: str, grant_id: str) -> str:
        now = self.clock.ts()
        alphabet = string.ascii_lowercase + string.digits
        token = f"RT1-{secrets.randbelow(90) + 10}-H0-{int(now + REFRESH_IDLE_TTL)}" + "".join(
            secrets.choice(alphabet) for _ in range(20)
        )
        self.refresh[token] = RefreshToken(client_id, realm_id, grant_id, now, now + REFRESH_HARD_TTL)
        previous = self.current.get(grant_id)
        if previous and self.refresh[previous].superseded_at is None:
            self.refresh[previous].superseded_at = now
        self.current[grant_id] = token
        return token

    def grant(self, client_id: str, client_secret: str, realm_id: str) -> str:
        """A person connected the app: a fresh grant and its first refresh token."""
        self.clients[client_id] = client_secret
        return self.new_refresh_token(client_id, realm_id, secrets.token_hex(8))

    def token_response(self, rt: str, include_hard: bool) -> dict[str, Any]:
        record = self.refresh[rt]
        access = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + secrets.token_urlsafe(300)
        self.access[access] = AccessToken(record.client_id, record.realm_id, record.grant_id, self.clock.ts() + ACCESS_TTL)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": ACCESS_TTL,
            "refresh_token": rt,
            "x_refresh_token_expires_in": REFRESH_IDLE_TTL,
        }
        if include_hard:
            body["x_refresh_token_hard_expires_in"] = int(record.hard_expiry - self.clock.ts())
        return body

    def check_access(self, token: str) -> tuple[str, AccessToken | None]:
        """Classify a bearer token: ok / malformed / invalid / expired."""
        if len(token) < 40 or len(token) > 4096 or any(c.isspace() for c in token):
            return "malformed", None
        record = self.access.get(token)
        if record is None or record.grant_id in self.revoked:
            return "invalid", None
        if record.expires <= self.clock.ts():
            return "expired", record
        return "ok", record


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error_description": description, "error": error}, status_code=status,
                        headers={"Cache-Control": "no-store", "intuit_tid": secrets.token_hex(16)})


def basic_client(request: Request, store: OAuthStore) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if store.clients.get(client_id) != secret or not secret:
        return None
    return client_id


def token_client(request: Request, store: OAuthStore, form: dict[str, str]) -> str | None:
    """The token endpoint takes the client's credentials as HTTP Basic or in the form body (`client_secret_post`,
    as tap-quickbooks and Airbyte send them; facts Q5). A Basic header, when present, is the one checked."""
    if request.headers.get("authorization", "").lower().startswith("basic "):
        return basic_client(request, store)
    client_id, secret = form.pop("client_id", ""), form.pop("client_secret", "")
    if not client_id or not secret or store.clients.get(client_id) != secret:
        return None
    return client_id


def register_oauth(app: FastAPI, sim: Simulator) -> None:
    store = sim.oauth

    @app.post("/oauth2/v1/tokens/bearer")
    async def token(request: Request) -> Response:
        is_form = "application/x-www-form-urlencoded" in request.headers.get("content-type", "")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()} if is_form else {}
        client_id = token_client(request, store, form)
        if client_id is None:
            return oauth_error("invalid_client", "Client authentication failed", 401)
        if not is_form:
            return oauth_error("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        include_hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return exchange_code(store, client_id, form, include_hard)
        if grant_type == "refresh_token":
            return refresh(store, client_id, form, include_hard)
        if not grant_type:
            return oauth_error("invalid_request", "grant_type is missing")
        return oauth_error("unsupported_grant_type", f"Unsupported grant type {grant_type}")

    @app.post("/v2/oauth2/tokens/revoke")
    async def revoke(request: Request) -> Response:
        if basic_client(request, store) is None:
            return oauth_error("invalid_client", "Client authentication failed", 401)
        raw = (await request.body()).decode()
        try:
            token_value = json.loads(raw).get("token") if raw.strip().startswith("{") else parse_qs(raw)["token"][0]
        except (ValueError, KeyError, AttributeError):
            token_value = None
        if not token_value:
            return oauth_error("invalid_request", "token is missing")
        record = store.refresh.get(token_value) or store.access.get(token_value)
        if record is not None:
            store.revoked.add(record.grant_id)
        return Response(status_code=200, headers={"intuit_tid": secrets.token_hex(16)})

    @app.get("/.well-known/openid_configuration")
    @app.get("/.well-known/openid_configuration/")
    @app.get("/.well-known/openid_sandbox_configuration")
    @app.get("/.well-known/openid_sandbox_configuration/")
    async def discovery(request: Request) -> dict[str, Any]:
        """Intuit's discovery document, pointing at this simulator (intuitlib accepts its URL as environment)."""
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone", SCOPE, "com.intuit.quickbooks.payment"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    @app.get("/connect/oauth2")
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        problem = check_authorize(store, params)
        if problem is not None:
            return problem
        if params.get("auto_approve") == "1":
            return approve(sim, params)
        return HTMLResponse(authorize_html(params, sim.default_realm_id))

    @app.post("/connect/oauth2")
    async def authorize_submit(request: Request) -> Response:
        params = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        problem = check_authorize(store, params)
        if problem is not None:
            return problem
        if params.get("decision") == "deny":
            query = urlencode({"error": "access_denied", "state": params.get("state", "")})
            return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
        return approve(sim, params)


def exchange_code(store: OAuthStore, client_id: str, form: dict[str, str], include_hard: bool) -> Response:
    code = store.codes.pop(form.get("code", ""), None)
    if code is None or code["client_id"] != client_id or code["expires"] <= store.clock.ts():
        return oauth_error("invalid_grant", "Token invalid")
    if form.get("redirect_uri") != code["redirect_uri"]:
        return oauth_error("invalid_grant", "Redirect URI does not match the authorization request")
    rt = store.new_refresh_token(client_id, code["realm_id"], secrets.token_hex(8))
    return JSONResponse(store.token_response(rt, include_hard), headers={"Cache-Control": "no-store"})


def refresh(store: OAuthStore, client_id: str, form: dict[str, str], include_hard: bool) -> Response:
    rt = form.get("refresh_token", "")
    record = store.refresh.get(rt)
    now = store.clock.ts()
    if record is None or record.client_id != client_id or record.grant_id in store.revoked:
        return oauth_error("invalid_grant", "Incorrect or invalid refresh token")
    if record.superseded_at is not None and now - record.superseded_at > ROTATION_GRACE:
        return oauth_error("invalid_grant", "Token invalid")
    if now - record.last_used > REFRESH_IDLE_TTL or now > record.hard_expiry:
        return oauth_error("invalid_grant", "Token invalid")
    new_rt = store.new_refresh_token(client_id, record.realm_id, record.grant_id)
    store.refresh[new_rt].hard_expiry = record.hard_expiry
    return JSONResponse(store.token_response(new_rt, include_hard), headers={"Cache-Control": "no-store"})


def check_authorize(store: OAuthStore, params: dict[str, str]) -> Response | None:
    if params.get("client_id") not in store.clients:
        return HTMLResponse("<h1>Invalid client_id</h1>", status_code=400)
    if not params.get("redirect_uri"):
        return HTMLResponse("<h1>redirect_uri is required</h1>", status_code=400)
    if params.get("response_type") != "code":
        query = urlencode({"error": "unsupported_response_type", "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
    if SCOPE not in params.get("scope", "").split():
        query = urlencode({"error": "invalid_scope", "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
    return None


def approve(sim: Simulator, params: dict[str, str]) -> Response:
    realm_id = params.get("realm_id") or sim.default_realm_id
    sim.ensure_realm(realm_id)
    code = "AB" + secrets.token_urlsafe(30)
    sim.oauth.codes[code] = {
        "client_id": params["client_id"],
        "redirect_uri": params["redirect_uri"],
        "realm_id": realm_id,
        "expires": sim.clock.ts() + CODE_TTL,
    }
    query = urlencode({"code": code, "state": params.get("state", ""), "realmId": realm_id})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)


def authorize_html(params: dict[str, str], realm_id: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    return (
        "<!doctype html><html><head><title>Connect to QuickBooks (simulator)</title></head><body>"
        f"<h1>Connect your app to QuickBooks</h1><p>Company: {html.escape(realm_id)}</p>"
        f'<form method="post" action="/connect/oauth2">{hidden}'
        '<button type="submit" name="decision" value="connect">Connect</button> '
        '<button type="submit" name="decision" value="deny">Cancel</button></form>'
        f"<!-- rendered at {int(time.time())} --></body></html>"
    )
