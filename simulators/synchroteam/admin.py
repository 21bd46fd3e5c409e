"""The `/_sim/` admin API (no auth): reset, seed, state, accounts and their settings, UI-style edits, request log,
faults, limits, clock."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from simulators.synchroteam import service
from simulators.synchroteam.app_util import body_of, respond
from simulators.synchroteam.clock import format_local_seconds
from simulators.synchroteam.errors import bad_request, not_found
from simulators.synchroteam.state import SimState
from simulators.synchroteam.store import Account

COLLECTIONS = {
    "customers": "customers", "customer": "customers",
    "invoices": "invoices", "invoice": "invoices",
    "parts": "parts", "part": "parts",
}


def _collection(name: str) -> str:
    found = COLLECTIONS.get(name.lower())
    if found is None:
        raise not_found(f"unknown collection '{name}' (customers, invoices, parts)")
    return found


def _int_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f"'{raw}' is not an id") from exc


def _part_id(account: Account, raw: str) -> int:
    """Parts are addressed by id or by reference."""
    if raw.isdigit() and int(raw) in account.parts.by_id:
        return int(raw)
    part = account.part_by_reference(raw)
    if part is None:
        raise not_found("Part not found")
    return int(part["id"])


def snapshot(state: SimState, account: Account) -> dict[str, Any]:
    return {
        "customers": [service.render_customer(account, rid) for rid in account.customers.ids],
        "parts": [service.render_part(account, p) for _, p in sorted(account.parts.by_id.items())],
        "invoices": [service.render_invoice(account, i) for _, i in sorted(account.invoices.by_id.items())],
    }


def seed(state: SimState, domain: str | None, body: Any, echo: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the seed must be a JSON object")
    out: dict[str, Any] = {}
    if "accounts" in body:
        if not isinstance(body["accounts"], list):
            raise bad_request("'accounts' must be a list")
        out["accounts"] = [state.add_account(a).settings() for a in body["accounts"]]
    account = state.account(domain)
    now = state.clock.now()
    for key in ("customers", "parts", "invoices"):
        if key in body and not isinstance(body[key], list):
            raise bad_request(f"'{key}' must be a list")
    if "customers" in body:
        records = service.seed_customers(account, body["customers"], now,
                                         lambda rid: state.public_link(account, rid))
        out["customers"] = [service.render_customer(account, r["id"]) for r in records] if echo else len(records)
    if "parts" in body:
        parts = [service.send_part(account, p, now, seed=True) for p in body["parts"]]
        out["parts"] = [service.render_part(account, p) for p in parts] if echo else len(parts)
    if "invoices" in body:
        invoices = [service.seed_invoice(account, i, now) for i in body["invoices"]]
        out["invoices"] = [service.render_invoice(account, i) for i in invoices] if echo else len(invoices)
    return out


ACCOUNT_SETTINGS = ("timezone", "name_lookup")


def account_view(state: SimState, account: Account) -> dict[str, Any]:
    """An account's settings plus its local time now (the form `changedSince` takes) and its UTC offset."""
    local = state.clock.now().astimezone(account.zone)
    offset = local.strftime("%z")
    return {**account.settings(), "now": format_local_seconds(local, account.zone),
            "utc_offset": f"{offset[:3]}:{offset[3:]}"}


def patch_account(state: SimState, account: Account, body: Any) -> dict[str, Any]:
    """Change an account's settings as its administrator would (the account's time zone in its preferences)."""
    if not isinstance(body, dict) or not body or set(body) - set(ACCOUNT_SETTINGS):
        raise bad_request(f"expected an object with any of {', '.join(ACCOUNT_SETTINGS)}")
    account.configure(body)
    return account_view(state, account)


def ui_edit(state: SimState, account: Account, collection: str, raw_id: str, body: Any) -> dict[str, Any]:
    now = state.clock.now()
    if collection == "customers":
        record = service.ui_edit_customer(account, _int_id(raw_id), body, now)
        return service.render_customer(account, record["id"])
    if collection == "invoices":
        return service.render_invoice(account, service.ui_edit_invoice(account, _int_id(raw_id), body, now))
    part = account.parts.by_id[_part_id(account, raw_id)]
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    record = service.send_part(account, {**body, "reference": part["reference"]}, now, always_bump=True)
    if isinstance(body.get("reference"), str) and body["reference"].strip():
        record["reference"] = body["reference"]
    return service.render_part(account, record)


def ui_delete(account: Account, collection: str, raw_id: str) -> None:
    """A person deleting the record: it is gone (details 404, no longer listed, invisible to changedSince)."""
    if collection == "customers":
        rid = _int_id(raw_id)
        if rid not in account.customers.by_id:
            raise not_found("Customer not found")
        account.customers.remove(rid)
    elif collection == "invoices":
        rid = _int_id(raw_id)
        if rid not in account.invoices.by_id:
            raise not_found("Invoice not found")
        account.invoices.remove(rid)
    else:
        account.parts.remove(_part_id(account, raw_id))


def install(api: FastAPI, state: SimState) -> None:  # noqa: C901 - one small route per admin call
    @api.get("/_sim/health")
    async def health(request: Request) -> Response:
        return respond(request, {"ok": True})

    @api.post("/_sim/reset")
    async def reset(request: Request) -> Response:
        state.reset()
        return respond(request, {"ok": True})

    @api.post("/_sim/seed")
    async def seed_route(request: Request) -> Response:
        echo = request.query_params.get("echo", "true").lower() != "false"
        body = await body_of(request)
        return respond(request, seed(state, request.query_params.get("domain"), body, echo))

    @api.get("/_sim/accounts")
    async def list_accounts(request: Request) -> Response:
        return respond(request, {"accounts": [account_view(state, a) for a in state.accounts.values()]})

    @api.post("/_sim/accounts")
    async def add_account(request: Request) -> Response:
        return respond(request, account_view(state, state.add_account(await body_of(request))))

    @api.get("/_sim/account")
    async def get_account(request: Request) -> Response:
        return respond(request, account_view(state, state.account(request.query_params.get("domain"))))

    @api.patch("/_sim/account")
    async def change_account(request: Request) -> Response:
        account = state.account(request.query_params.get("domain"))
        return respond(request, patch_account(state, account, await body_of(request)))

    @api.get("/_sim/state")
    async def state_route(request: Request) -> Response:
        return respond(request, snapshot(state, state.account(request.query_params.get("domain"))))

    @api.get("/_sim/requests")
    async def requests_route(request: Request) -> Response:
        return respond(request, list(state.requests))

    @api.delete("/_sim/requests")
    async def clear_requests(request: Request) -> Response:
        state.requests.clear()
        return respond(request, {"ok": True})

    @api.get("/_sim/faults")
    async def list_faults(request: Request) -> Response:
        return respond(request, {"faults": [r.as_dict() for r in state.faults.rules]})

    @api.post("/_sim/faults")
    async def add_faults(request: Request) -> Response:
        body = await body_of(request)
        if not isinstance(body, dict) or "faults" not in body:
            raise bad_request("expected {\"faults\": [...]}")
        state.faults.add(body["faults"])
        return respond(request, {"faults": [r.as_dict() for r in state.faults.rules]})

    @api.delete("/_sim/faults")
    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return respond(request, {"ok": True})

    @api.get("/_sim/limits")
    async def get_limits(request: Request) -> Response:
        return respond(request, state.limits.as_dict())

    @api.post("/_sim/limits")
    async def set_limits(request: Request) -> Response:
        body = await body_of(request)
        if not isinstance(body, dict):
            raise bad_request("expected {\"requests_per_minute\": N, \"daily_quota\": N}")
        for key in ("requests_per_minute", "daily_quota"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise bad_request(f"'{key}' must be a non-negative integer (0 = unlimited)")
                setattr(state.limits, key, value)
        return respond(request, state.limits.as_dict())

    @api.get("/_sim/clock")
    async def get_clock(request: Request) -> Response:
        return respond(request, _clock(state))

    @api.post("/_sim/clock")
    async def move_clock(request: Request) -> Response:
        body = await body_of(request)
        seconds = body.get("advance_seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise bad_request("expected {\"advance_seconds\": N}")
        state.clock.advance(float(seconds))
        return respond(request, _clock(state))

    @api.patch("/_sim/{collection}/{raw_id}")
    async def patch_record(collection: str, raw_id: str, request: Request) -> Response:
        account = state.account(request.query_params.get("domain"))
        body = await body_of(request)
        return respond(request, ui_edit(state, account, _collection(collection), raw_id, body))

    @api.delete("/_sim/{collection}/{raw_id}")
    async def delete_record(collection: str, raw_id: str, request: Request) -> Response:
        account = state.account(request.query_params.get("domain"))
        ui_delete(account, _collection(collection), raw_id)
        return respond(request, {"ok": True})


def _clock(state: SimState) -> dict[str, Any]:
    now = state.clock.now()
    return {"now": now.isoformat().replace("+00:00", "Z"), "offset_seconds": state.clock.offset_seconds}
