"""The QuickBooks Online simulator application: state container, the Intuit gateway, and `create_app`.

Everything under /v3/company/{realmId} passes through `QboApp.gateway` exactly as through Intuit's gateway:
injected faults, the concurrency limit, bearer-token checks (401/403), the per-second and per-minute rate limits
(429), Core/CorePlus metering and its optional monthly cap (403), the `requestid` replay cache, then the resource
itself. OAuth and the /_sim admin API are ordinary FastAPI routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import secrets
from collections import deque
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI

from simulators.quickbooks import api
from simulators.quickbooks.admin import register_admin
from simulators.quickbooks.core import (
    QBO_VERSION,
    Clock,
    Leniency,
    QboFault,
    bad_length,
    coreplus_blocked,
    envelope_time,
    gateway_fault,
    system_fault,
    throttle_body,
)
from simulators.quickbooks.oauth import OAuthStore, register_oauth
from simulators.quickbooks.seeding import new_realm, seed_demo
from simulators.quickbooks.store import DEFAULT_REALM, Realm

log = logging.getLogger("simulators.quickbooks")

API_PATH = re.compile(r"^/v3/company/([^/]+)/(.*)$")
# Intuit's throttles per realm (facts Q3): 10 requests a second, 500 a minute, 10 at once, 40 batch calls a minute.
DEFAULT_LIMITS = {"requests_per_second": 10, "requests_per_minute": 500, "concurrent": 10, "batch_per_minute": 40}
REQUESTID_MAX = 50
Send = Any
Receive = Any


class Simulator:
    """All simulator state; one instance per app, reset through /_sim/reset."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.oauth = OAuthStore(self.clock)
        self.limits = dict(DEFAULT_LIMITS)
        self.lenient = Leniency()
        self.default_realm_id = DEFAULT_REALM
        self.realms: dict[str, Realm] = {}
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.replays: dict[tuple[str, str], tuple[int, bytes, str]] = {}
        self.windows: dict[str, deque[float]] = {}
        self.second_windows: dict[str, deque[float]] = {}
        self.batch_windows: dict[str, deque[float]] = {}
        self.in_flight: dict[str, int] = {}
        self.usage: dict[tuple[str, str, str], dict[str, int]] = {}
        self.coreplus_cap = 0
        self.reset()

    def reset(self) -> None:
        self.clock.offset = 0.0
        self.oauth.reset()
        self.realms = {}
        self.faults = []
        self.requests = []
        self.replays = {}
        self.windows = {}
        self.second_windows = {}
        self.batch_windows = {}
        self.lenient.reset()
        self.usage = {}
        self.coreplus_cap = 0
        self.realms[self.default_realm_id] = new_realm(self.default_realm_id, self.clock, self.lenient)

    def ensure_realm(self, realm_id: str) -> Realm:
        if realm_id not in self.realms:
            self.realms[realm_id] = new_realm(realm_id, self.clock, self.lenient)
        return self.realms[realm_id]

    def clear_windows(self) -> None:
        self.windows.clear()
        self.second_windows.clear()
        self.batch_windows.clear()

    # ---- faults ---------------------------------------------------------------------------------
    def match_fault(self, method: str, path: str) -> dict[str, Any] | None:
        for rule in list(self.faults):
            if rule.get("method") and str(rule["method"]).upper() != method:
                continue
            if not re.search(str(rule.get("path", "")), path):
                continue
            if random.random() >= float(rule.get("probability", 1.0)):
                continue
            rule["fired"] = rule.get("fired", 0) + 1
            times = int(rule.get("times", 1))
            if times and rule["fired"] >= times:
                self.faults.remove(rule)
            return rule
        return None

    # ---- rate limits ----------------------------------------------------------------------------
    def throttled(self, realm_id: str, is_batch: bool, weight: int) -> bool:
        """Sliding windows per realm on the simulator clock (0 = unlimited): 1 s, 60 s and 60 s for batch calls.

        Each request counts once per second (a batch of 30 would never pass otherwise) and once per item per
        minute; a request refused by one budget counts against none."""
        per_second = 0 if self.lenient.no_per_second_limit else self.limits.get("requests_per_second", 0)
        checks = [(self.second_windows, per_second, 1, 1.0),
                  (self.windows, self.limits.get("requests_per_minute", 0), weight, 60.0)]
        if is_batch:
            checks.append((self.batch_windows, self.limits.get("batch_per_minute", 0), 1, 60.0))
        now = self.clock.ts()
        live = []
        for windows, limit, amount, span in checks:
            if not limit:
                continue
            window = windows.setdefault(realm_id, deque())
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) + amount > limit:
                return True
            live.append((window, amount))
        for window, amount in live:
            window.extend([now] * amount)
        return False

    # ---- Core / CorePlus metering ---------------------------------------------------------------
    def month(self) -> str:
        return self.clock.now().strftime("%Y-%m")

    def coreplus_used(self, client_id: str, month: str) -> int:
        """CorePlus calls of one app this month, all its companies together (how Intuit meters them)."""
        return sum(c["coreplus"] for (app, _realm, m), c in self.usage.items() if app == client_id and m == month)

    def meter(self, client_id: str, realm_id: str, core: int, coreplus: int) -> bool:
        """Count a call that reached the API; False (and nothing counted) when the monthly cap refuses it."""
        month = self.month()
        if coreplus and self.coreplus_cap and self.coreplus_used(client_id, month) + coreplus > self.coreplus_cap:
            return False
        counters = self.usage.setdefault((client_id, realm_id, month), {"core": 0, "coreplus": 0})
        counters["core"] += core
        counters["coreplus"] += coreplus
        return True

    def log_request(self, method: str, path: str, query: str, status: int, realm: str | None) -> None:
        params = dict(parse_qsl(query))
        self.requests.append({
            "method": method, "path": path, "query": query, "status": status,
            "time": self.clock.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "realm": realm, "request_id": params.get("requestid"),
        })


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def respond(send: Send, status: int, body: bytes, content_type: str = "application/json;charset=UTF-8",
                  extra: dict[str, str] | None = None) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"intuit_tid", secrets.token_hex(16).encode()),
        (b"qbo-version", QBO_VERSION.encode()),
    ]
    for key, value in (extra or {}).items():
        headers.append((key.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def drop_connection(send: Send) -> bool:
    """Close the client's socket without a byte of response (uvicorn's transport behind its send)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    try:
        cycle.disconnected = True  # type: ignore[union-attr]
    except AttributeError:
        pass
    return True


class QboApp(FastAPI):
    """FastAPI plus the gateway in front of the API and OAuth paths."""

    sim: Simulator

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await super().__call__(scope, receive, send)
            return
        await self.gateway(scope, receive, send)

    async def gateway(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        sim = self.sim
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        match = API_PATH.match(path)
        realm_id = match.group(1) if match else None
        status = {"code": 0}

        async def tracking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        limit = sim.limits.get("concurrent", 0)
        if realm_id and limit and sim.in_flight.get(realm_id, 0) >= limit:
            await respond(tracking_send, 429, json_bytes(throttle_body()))
            sim.log_request(method, path, query, 429, realm_id)
            return
        if realm_id:
            sim.in_flight[realm_id] = sim.in_flight.get(realm_id, 0) + 1
        try:
            rule = sim.match_fault(method, path)
            if rule is not None and rule.get("action") != "drop_after_commit":
                await self.injected(rule, tracking_send)
                return
            if rule is not None:
                buffered = {"code": 0}

                async def swallow(message: dict[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        buffered["code"] = message["status"]

                await self.inner(scope, receive, swallow, realm_id, match)
                status["code"] = buffered["code"]
                if not drop_connection(send):
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [(b"content-length", b"1000")]})
                    raise ConnectionAbortedError("drop_after_commit")
                return
            await self.inner(scope, receive, tracking_send, realm_id, match)
        finally:
            if realm_id:
                sim.in_flight[realm_id] -= 1
            sim.log_request(method, path, query, status["code"], realm_id)

    async def inner(self, scope: dict[str, Any], receive: Receive, send: Send, realm_id: str | None,
                    match: re.Match[str] | None) -> None:
        if realm_id is None or match is None:
            await super().__call__(scope, receive, send)
            return
        await self.api_call(scope, receive, send, realm_id, match.group(2))

    async def injected(self, rule: dict[str, Any], send: Send) -> None:
        action = rule.get("action", "error")
        if action == "throttle":
            await respond(send, 429, json_bytes(throttle_body()), extra=retry_after(rule))
            return
        if action == "timeout":
            await asyncio.sleep(float(rule.get("delay", 30)))
            await respond(send, 504, json_bytes(system_fault(504)))
            return
        code = int(rule.get("status", 500))
        if code == 429:
            body = throttle_body()
        elif code == 401:
            body = gateway_fault("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                 "Token expired: injected", "AUTHENTICATION", self.sim.clock.ts())
        elif code >= 500:
            body = system_fault(code)
        else:
            body = {"Fault": {"Error": [{"Message": "Injected fault", "Detail": "Injected by /_sim/faults",
                                         "code": str(rule.get("code", "6000")), "element": ""}],
                              "type": "ValidationFault"}, "time": envelope_time(self.sim.clock.ts())}
        await respond(send, code, json_bytes(body), extra=retry_after(rule))

    async def api_call(self, scope: dict[str, Any], receive: Receive, send: Send, realm_id: str, sub: str) -> None:
        sim = self.sim
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        denied, client_id = self.authenticate(headers.get("authorization", ""), realm_id)
        if denied is not None:
            await respond(send, denied[0], json_bytes(denied[1]), extra=denied[2])
            return
        body = await read_body(receive)
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        weight = batch_weight(sub, body)
        is_batch = sub.strip("/") == "batch"
        if sim.throttled(realm_id, is_batch, weight):
            await respond(send, 429, json_bytes(throttle_body()))  # no Retry-After, as Intuit's gateway
            return
        core, coreplus = call_kind(scope["method"], sub, body)
        if not sim.meter(client_id, realm_id, core, coreplus):
            await respond(send, 403, json_bytes(coreplus_blocked(sim.coreplus_cap, sim.month(), sim.clock.ts())))
            return
        request_id = params.get("requestid")
        problem = check_request_id(request_id, is_batch, body)
        if problem is not None:
            fault = {"Fault": problem.fault(), "time": envelope_time(sim.clock.ts())}
            await respond(send, problem.status, json_bytes(fault))
            return
        if request_id is not None:
            cached = sim.replays.get((realm_id, request_id))
            if cached is not None:
                await respond(send, cached[0], cached[1], cached[2])
                return
        status, payload, content_type = self.dispatch(realm_id, scope["method"], sub, params, body)
        if request_id is not None:
            sim.replays[(realm_id, request_id)] = (status, payload, content_type)
        await respond(send, status, payload, content_type)

    def dispatch(self, realm_id: str, method: str, sub: str, params: dict[str, str],
                 body: bytes) -> tuple[int, bytes, str]:
        realm = self.sim.realms[realm_id]
        try:
            status, result = api.handle(realm, method, sub, params, body)
        except Exception:  # an unexpected bug answers like QBO's own SystemFault, and is logged
            log.exception("QuickBooks simulator failed on %s %s", method, sub)
            return 500, json_bytes({**system_fault(), "time": envelope_time(self.sim.clock.ts())}), \
                "application/json;charset=UTF-8"
        if isinstance(result, bytes):
            return status, result, "application/pdf"
        result["time"] = envelope_time(self.sim.clock.ts())
        return status, json_bytes(result), "application/json;charset=UTF-8"

    def authenticate(self, header: str, realm_id: str) -> tuple[tuple[int, dict[str, Any], dict[str, str]] | None, str]:
        """Gateway checks: 401 (3200) for a missing, malformed or expired token, 403 (3100) for another realm.

        Answers (refusal or None, the app's client id)."""
        now = self.sim.clock.ts()
        challenge = {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        verdict, record = self.sim.oauth.check_access(token) if token else ("missing", None)
        if verdict != "ok":
            detail = {
                "missing": "Authorization header is missing or is not a Bearer token",
                "malformed": "Malformed bearer token: too short or too long",
                "invalid": "Token invalid",
                "expired": f"Token expired: {token[:6]}...",
            }[verdict]
            body = gateway_fault("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                 detail, "AUTHENTICATION", now)
            return (401, body, challenge), ""
        assert record is not None
        if record.realm_id != realm_id or realm_id not in self.sim.realms:
            body = gateway_fault("3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                                 None, "SERVICE", now)
            return (403, body, {}), record.client_id
        return None, record.client_id


def check_request_id(request_id: str | None, is_batch: bool, body: bytes) -> QboFault | None:
    """`requestid` is at most 50 characters, 36 on a batch, whose bIds may then have at most 10."""
    if request_id is None:
        return None
    maximum = 36 if is_batch else REQUESTID_MAX
    if not request_id or len(request_id) > maximum:
        return bad_length("requestid", maximum, len(request_id))
    if is_batch:
        try:
            items = json.loads(body).get("BatchItemRequest") or []
        except (ValueError, AttributeError):
            return None
        for item in items if isinstance(items, list) else []:
            bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
            if len(bid) > 10:
                return bad_length("bId", 10, len(bid))
    return None


def retry_after(rule: dict[str, Any]) -> dict[str, str]:
    return {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") is not None else {}


def call_kind(method: str, sub: str, body: bytes) -> tuple[int, int]:
    """(Core, CorePlus) calls in one request: reads (queries, reads by id, CDC, reports, company settings)
    are CorePlus, writes are Core; a batch counts each of its items (Query items are CorePlus)."""
    path = sub.strip("/")
    if method == "POST" and path == "batch":
        try:
            items = json.loads(body).get("BatchItemRequest")
        except (ValueError, AttributeError):
            return 1, 0
        if not isinstance(items, list) or not items:
            return 1, 0
        reads = sum(1 for item in items if isinstance(item, dict) and "Query" in item)
        return len(items) - reads, reads
    if method == "GET" or (method == "POST" and path == "query"):
        return 0, 1
    return 1, 0


def batch_weight(sub: str, body: bytes) -> int:
    """Each batch item counts against the per-minute limit like a separate call."""
    if sub.strip("/") != "batch":
        return 1
    try:
        items = json.loads(body).get("BatchItemRequest")
    except (ValueError, AttributeError):
        return 1
    return max(1, len(items)) if isinstance(items, list) else 1


def create_app(seed: str = "empty") -> FastAPI:
    """The simulator as an ASGI app; `seed` is "empty" or "demo"."""
    app = QboApp(title="QuickBooks Online simulator", docs_url="/_sim/docs", openapi_url="/_sim/openapi.json",
                 redoc_url=None)
    sim = Simulator()
    app.sim = sim
    app.state.sim = sim
    register_oauth(app, sim)
    register_admin(app, sim)
    if seed == "demo":
        seed_demo(sim)
    elif seed != "empty":
        raise ValueError(f"unknown seed {seed!r}: use 'empty' or 'demo'")
    return app
