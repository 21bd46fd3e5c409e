"""FastAPI app: Synchroteam API v3 routes (customers, invoices, parts) and the `/_sim/` admin API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from simulators.synchroteam import admin, service
from simulators.synchroteam.app_util import list_params, read_json, respond
from simulators.synchroteam.clock import DEFAULT_TIMEZONE
from simulators.synchroteam.demo import load_demo
from simulators.synchroteam.errors import ApiError
from simulators.synchroteam.gateway import Gateway
from simulators.synchroteam.state import SimState
from simulators.synchroteam.store import Account

log = logging.getLogger(__name__)


def account_of(request: Request) -> Account:
    return request.scope["st_account"]  # type: ignore[no-any-return]


class SimulatorApp(FastAPI):
    """A FastAPI app whose every request first goes through the gateway (auth, limits, faults, request log).

    The gateway runs before Starlette's own middleware so that it holds uvicorn's `send` (see gateway.py).
    """

    gateway: Gateway

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.gateway(scope, receive, send)

    async def routed(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)


def create_app(seed: str = "empty", domain: str = "demo", api_key: str = "demo-api-key",
               timezone: str = DEFAULT_TIMEZONE, name_lookup: str = "prefix") -> FastAPI:
    """The app to serve; ``app.state.sim`` is the simulator state (accounts, clock, limits, faults, log).

    ``timezone`` and ``name_lookup`` are the start account's settings and the defaults for accounts added later;
    the defaults are the real service's behaviour (`UTC` / `exact` are lenient modes for debugging).
    """
    state = SimState(domain, api_key, timezone, name_lookup)
    if seed == "demo":
        load_demo(state, state.account(None))
    elif seed != "empty":
        raise ValueError(f"unknown seed {seed!r} (demo or empty)")
    api = SimulatorApp(title="Synchroteam API v3 simulator", docs_url="/_sim/docs",
                       openapi_url="/_sim/openapi.json", redoc_url=None)
    api.gateway = Gateway(api.routed, state)
    api.state.sim = state
    _install_error_handlers(api)
    _install_api_routes(api, state)
    _install_admin_routes(api, state)
    return api


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        response = respond(request, exc.body(), exc.status)
        response.headers.update(exc.headers)
        return response

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            message = f"No HTTP resource was found that matches the request URI '{request.url.path}'."
        elif exc.status_code == 405:
            message = f"The requested resource does not support http method '{request.method}'."
        else:
            message = str(exc.detail)
        return respond(request, {"code": exc.status_code, "message": message}, exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, {"code": 400, "message": str(exc.errors())}, 400)

    @api.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, {"code": 500, "message": "An error has occurred."}, 500)


def _install_api_routes(api: FastAPI, state: SimState) -> None:
    def link(account: Account) -> Callable[[int], str]:
        return lambda rid: state.public_link(account, rid)

    @api.api_route("/api/v3/customer/list", methods=["GET", "POST"])
    async def customer_list(request: Request) -> Response:
        return respond(request, service.list_customers(account_of(request), await list_params(request)))

    @api.get("/api/v3/customer/details")
    async def customer_details(request: Request) -> Response:
        record = service.find_customer(account_of(request), request.query_params)
        return respond(request, service.render_customer(account_of(request), record["id"]))

    @api.post("/api/v3/customer/send")
    async def customer_send(request: Request) -> Response:
        account = account_of(request)
        body = await read_json(request, required=True)
        record = service.send_customer(account, body, state.clock.now(), link(account))
        return respond(request, service.render_customer(account, record["id"]))

    @api.delete("/api/v3/customer/delete")
    async def customer_delete(request: Request) -> Response:
        service.delete_customer(account_of(request), request.query_params)
        return Response(status_code=204, headers={"Cache-Control": "no-cache"})

    @api.api_route("/api/v3/invoice/list", methods=["GET", "POST"])
    async def invoice_list(request: Request) -> Response:
        return respond(request, service.list_invoices(account_of(request), await list_params(request)))

    @api.get("/api/v3/invoice/details")
    async def invoice_details(request: Request) -> Response:
        account = account_of(request)
        return respond(request, service.render_invoice(account, service.find_invoice(account, request.query_params)))

    @api.api_route("/api/v3/part/list", methods=["GET", "POST"])
    async def part_list(request: Request) -> Response:
        return respond(request, service.list_parts(account_of(request), await list_params(request)))

    @api.get("/api/v3/part/details")
    async def part_details(request: Request) -> Response:
        account = account_of(request)
        return respond(request, service.render_part(account, service.find_part(account, request.query_params)))

    @api.post("/api/v3/part/send")
    async def part_send(request: Request) -> Response:
        account = account_of(request)
        record = service.send_part(account, await read_json(request, required=True), state.clock.now())
        return respond(request, service.render_part(account, record))


def _install_admin_routes(api: FastAPI, state: SimState) -> None:
    admin.install(api, state)
