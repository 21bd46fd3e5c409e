"""The ASGI layer in front of the API routes: path case, faults, Basic auth, limits, headers and the request log.

It wraps the FastAPI app as the outermost ASGI callable, so it receives uvicorn's own `send`; that is what
lets `drop_after_commit` close the socket after the write without sending any HTTP response.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from simulators.synchroteam.errors import ApiError
from simulators.synchroteam.faults import FaultRule
from simulators.synchroteam.limits import consume
from simulators.synchroteam.state import SimState
from simulators.synchroteam.store import Account

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ACCEPTABLE = ("application/json", "text/json", "*/*", "application/*", "text/*")


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def send_json(send: Send, status: int, payload: Any, headers: dict[str, str] | None = None,
                    content_type: str = "application/json") -> None:
    body = json_bytes(payload)
    raw_headers = [
        (b"content-type", f"{content_type}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-cache"),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: ApiError, headers: dict[str, str] | None = None) -> None:
    await send_json(send, error.status, error.body(), {**(headers or {}), **error.headers})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def authenticate(state: SimState, scope: Scope) -> Account | None:
    """HTTP Basic: user = account domain (case-insensitive, it is a host name), password = API key (exact)."""
    header = _header(scope, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    account = state.accounts.get(user.lower()) if sep else None
    if account is None or not hmac.compare_digest(password.encode(), account.api_key.encode()):
        return None
    return account


def _accepts_json(scope: Scope) -> bool:
    accept = _header(scope, b"accept")
    if not accept:
        return True
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(t in ACCEPTABLE for t in types)


class Gateway:
    """Outermost ASGI app: `/api/...` requests pass through the checks; `/_sim/...` goes straight to the app."""

    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].lower().startswith("/api/"):
            await self.app(scope, receive, send)
            return
        path = scope["path"].lower()
        scope = dict(scope, path=path, raw_path=path.encode())
        now = self.state.clock.now()
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": path,
            "query": dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
            "status": None,
            "time": now.isoformat().replace("+00:00", "Z"),
            "domain": None,
        }
        self.state.requests.append(entry)
        entry["status"] = await self._handle(scope, receive, send, entry)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> int:
        account = authenticate(self.state, scope)
        entry["domain"] = account.domain if account else None
        rule = self.state.faults.take(scope["method"], scope["path"])
        if rule is not None and rule.action != "drop_after_commit":
            return await self._fault(rule, send)
        if account is None:
            error = ApiError(401, "Authorization has been denied for this request.",
                             {"WWW-Authenticate": 'Basic realm="Synchroteam"'})
            await send_error(send, error)
            return 401
        try:
            limit_headers = consume(self.state.limits, account, self.state.clock.now())
        except ApiError as error:
            await send_error(send, error)
            return error.status
        if not _accepts_json(scope):
            await send_error(send, ApiError(406, "Only application/json and text/json are served."), limit_headers)
            return 406
        scope["st_account"] = account
        drop = rule is not None
        status = 500

        async def wrapped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(k.lower().encode(), v.encode()) for k, v in limit_headers.items()]
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            if not drop:
                await send(message)

        await self.app(scope, receive, wrapped_send)
        if drop:
            await _drop_connection(send)
        return status

    async def _fault(self, rule: FaultRule, send: Send) -> int:
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        if rule.action == "timeout":
            await asyncio.sleep(rule.delay)
            await send_error(send, ApiError(504, rule.message or "Gateway timeout (injected)."))
            return 504
        if rule.action == "throttle":
            headers.setdefault("Retry-After", "1")
            await send_error(send, ApiError(429, rule.message or "Too many requests (injected)."), headers)
            return 429
        await send_error(send, ApiError(rule.status, rule.message or f"Injected error {rule.status}."), headers)
        return rule.status


async def _drop_connection(send: Send) -> None:
    """Close the client's socket with nothing sent; uvicorn's `send` is a bound method of the request cycle."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("drop_after_commit needs uvicorn's transport")
    transport.close()
    cycle.disconnected = True  # type: ignore[union-attr]  # stops uvicorn from writing a 500 on the closed socket
    await asyncio.sleep(0)
