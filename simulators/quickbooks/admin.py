"""The /_sim admin API: reset, seed, state, UI-style edits, request log, faults, limits, lenient switches,
Core/CorePlus usage, clock, OAuth grants.

None of it needs auth. Realm-scoped calls act on the default realm unless `?realm=<id>` names another.
"""

from __future__ import annotations

import copy
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.quickbooks import api, invoices
from simulators.quickbooks.core import QboFault, money
from simulators.quickbooks.entities import clean
from simulators.quickbooks.seeding import seed_payload
from simulators.quickbooks.store import ENTITY_TYPES, Realm

if TYPE_CHECKING:
    from simulators.quickbooks.app import Simulator

COLLECTIONS = {name.lower(): name for name in ENTITY_TYPES}
COLLECTIONS.update({name.lower() + "s": name for name in ENTITY_TYPES})
COLLECTIONS.update({"taxcodes": "TaxCode", "taxrates": "TaxRate", "employees": "Employee"})
FAULT_ACTIONS = ("error", "timeout", "drop_after_commit", "throttle")


def fault_response(fault: QboFault) -> JSONResponse:
    return JSONResponse({"Fault": fault.fault()}, status_code=fault.status)


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A person editing one field of an address in the UI keeps the rest of it."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def register_admin(app: FastAPI, sim: Simulator) -> None:  # noqa: C901 - a flat list of small routes
    def realm_of(request: Request) -> Realm:
        realm_id = request.query_params.get("realm") or sim.default_realm_id
        return sim.ensure_realm(realm_id)

    @app.get("/_sim/health")
    async def health() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/_sim/reset")
    async def reset() -> dict[str, Any]:
        sim.reset()
        return {"ok": True, "realm_id": sim.default_realm_id}

    @app.post("/_sim/seed")
    async def seed(request: Request) -> Any:
        payload = await request.json()
        if not isinstance(payload, dict):
            return JSONResponse({"error": "body must be an object"}, status_code=400)
        try:
            return seed_payload(realm_of(request), payload)
        except QboFault as fault:
            return fault_response(fault)

    @app.get("/_sim/state")
    async def state(request: Request) -> Any:
        realm = realm_of(request)
        snapshot: dict[str, Any] = realm.snapshot()
        snapshot["Preferences"] = realm.preferences
        snapshot["CompanyInfo"] = realm.company_info
        snapshot["Deleted"] = {k: sorted(v) for k, v in realm.tombstones.items() if v}
        snapshot["realm_id"] = realm.id
        return snapshot

    @app.patch("/_sim/{collection}/{obj_id}")
    async def ui_edit(collection: str, obj_id: str, request: Request) -> Any:
        etype = COLLECTIONS.get(collection.lower())
        realm = realm_of(request)
        current = realm.get(etype, obj_id) if etype else None
        if etype is None or current is None:
            return JSONResponse({"error": f"no {collection} {obj_id}"}, status_code=404)
        patch = await request.json()
        try:
            return {etype: ui_update(realm, etype, current, patch)}
        except QboFault as fault:
            return fault_response(fault)

    @app.delete("/_sim/{collection}/{obj_id}")
    async def ui_delete(collection: str, obj_id: str, request: Request) -> Any:
        etype = COLLECTIONS.get(collection.lower())
        realm = realm_of(request)
        current = realm.get(etype, obj_id) if etype else None
        if etype is None or current is None:
            return JSONResponse({"error": f"no {collection} {obj_id}"}, status_code=404)
        if etype == "Invoice":
            return api.delete(realm, etype, {"Id": obj_id, "SyncToken": current["SyncToken"]})
        if etype in ("TaxCode", "TaxRate"):
            current["Active"] = False
            realm.store(etype, current)
            return {etype: current}
        try:
            return {etype: ui_update(realm, etype, current, {"Active": False}, allow_balance=True)}
        except QboFault as fault:
            return fault_response(fault)

    @app.post("/_sim/merge")
    async def merge(request: Request) -> Any:
        body = await request.json()
        etype = COLLECTIONS.get(str(body.get("collection", "Customer")).lower())
        realm = realm_of(request)
        source = realm.get(etype, str(body.get("from"))) if etype in ("Customer", "Vendor", "Employee") else None
        survivor = realm.get(etype, str(body.get("into"))) if etype else None
        if etype is None or source is None or survivor is None or source is survivor:
            return JSONResponse({"error": "merge needs collection, from and into naming two records"}, status_code=400)
        return {etype: merge_records(realm, etype, source, survivor)}

    @app.get("/_sim/requests")
    async def requests_log() -> list[dict[str, Any]]:
        return sim.requests

    @app.delete("/_sim/requests")
    async def clear_requests() -> dict[str, Any]:
        sim.requests = []
        return {"ok": True}

    @app.get("/_sim/faults")
    async def list_faults() -> dict[str, Any]:
        return {"faults": sim.faults}

    @app.post("/_sim/faults")
    async def add_faults(request: Request) -> Any:
        body = await request.json()
        rules = body.get("faults") if isinstance(body, dict) else None
        if not isinstance(rules, list):
            return JSONResponse({"error": 'body must be {"faults": [...]}'}, status_code=400)
        for rule in rules:
            if rule.get("action", "error") not in FAULT_ACTIONS or not isinstance(rule.get("path", ""), str):
                return JSONResponse({"error": f"bad fault rule {rule}"}, status_code=400)
        sim.faults.extend({"action": "error", "path": "", "times": 1, "probability": 1.0, **r} for r in rules)
        return {"faults": sim.faults}

    @app.delete("/_sim/faults")
    async def clear_faults() -> dict[str, Any]:
        sim.faults = []
        return {"ok": True}

    @app.get("/_sim/limits")
    async def get_limits() -> dict[str, Any]:
        return sim.limits

    @app.post("/_sim/limits")
    async def set_limits(request: Request) -> Any:
        body = await request.json()
        for key, value in body.items():
            if key not in sim.limits or not isinstance(value, int) or value < 0:
                return JSONResponse({"error": f"bad limit {key}={value}"}, status_code=400)
        sim.limits.update(body)
        sim.clear_windows()
        return sim.limits

    @app.get("/_sim/lenient")
    async def get_lenient() -> dict[str, Any]:
        return sim.lenient.as_dict()

    @app.post("/_sim/lenient")
    async def set_lenient(request: Request) -> Any:
        """Debugging switches back to friendlier, unreal behaviour; never the default (reset clears them)."""
        body = await request.json()
        known = sim.lenient.as_dict()
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be an object of switches"}, status_code=400)
        for key, value in body.items():
            if key not in known or not isinstance(value, bool):
                return JSONResponse({"error": f"bad switch {key}={value!r}; known: {sorted(known)}"},
                                    status_code=400)
        for key, value in body.items():
            setattr(sim.lenient, key, value)
        for realm in sim.realms.values():
            realm.touch()  # cached query orders depend on a switch
        return sim.lenient.as_dict()

    @app.get("/_sim/usage")
    async def get_usage() -> dict[str, Any]:
        return usage_report(sim)

    @app.post("/_sim/usage")
    async def set_usage(request: Request) -> Any:
        body = await request.json()
        cap = body.get("coreplus_monthly_cap") if isinstance(body, dict) else None
        if set(body or {}) != {"coreplus_monthly_cap"} or not isinstance(cap, int) or isinstance(cap, bool) \
                or cap < 0:
            return JSONResponse({"error": 'body must be {"coreplus_monthly_cap": N} (0 = no cap)'}, status_code=400)
        sim.coreplus_cap = cap
        return usage_report(sim)

    @app.delete("/_sim/usage")
    async def clear_usage() -> dict[str, Any]:
        sim.usage = {}
        return usage_report(sim)

    @app.get("/_sim/clock")
    async def get_clock() -> dict[str, Any]:
        now = sim.clock.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"now": now, "offset_seconds": sim.clock.offset}

    @app.post("/_sim/clock")
    async def move_clock(request: Request) -> Any:
        body = await request.json()
        seconds = body.get("advance_seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or seconds < 0:
            return JSONResponse({"error": "advance_seconds must be a non-negative number"}, status_code=400)
        sim.clock.advance(seconds)
        return await get_clock()

    @app.post("/_sim/oauth/grant")
    async def grant(request: Request) -> Any:
        body = await request.json()
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if not client_id or not secret:
            return JSONResponse({"error": "client_id and client_secret are required"}, status_code=400)
        realm = sim.ensure_realm(str(body.get("realm_id") or sim.default_realm_id))
        return {"realm_id": realm.id, "refresh_token": sim.oauth.grant(client_id, secret, realm.id)}

    @app.get("/_sim/preferences")
    async def get_preferences(request: Request) -> dict[str, Any]:
        realm = realm_of(request)
        return {**realm.preferences, "simulator": {"country": realm.country}}

    @app.patch("/_sim/preferences")
    async def patch_preferences(request: Request) -> Any:
        realm = realm_of(request)
        body = await request.json()
        country = (body.pop("simulator", None) or {}).get("country")
        if country:
            set_country(realm, str(country).upper())
        for key, value in body.items():
            if isinstance(value, dict) and isinstance(realm.preferences.get(key), dict):
                realm.preferences[key] = deep_merge(realm.preferences[key], value)
            elif key not in ("Id", "SyncToken", "MetaData", "domain", "sparse"):
                realm.preferences[key] = value
        api.bump_preferences(realm)
        return {**realm.preferences, "simulator": {"country": realm.country}}


def usage_report(sim: Simulator) -> dict[str, Any]:
    """Core and CorePlus calls per app (client id), realm and month, plus each app's CorePlus total this month."""
    month = sim.month()
    rows = [{"client_id": app, "realm_id": realm, "month": m, **counters}
            for (app, realm, m), counters in sorted(sim.usage.items())]
    apps = sorted({app for app, _realm, _m in sim.usage})
    return {"month": month, "coreplus_monthly_cap": sim.coreplus_cap, "usage": rows,
            "coreplus_this_month": {app: sim.coreplus_used(app, month) for app in apps}}


def merge_records(realm: Realm, etype: str, source: dict[str, Any], survivor: dict[str, Any]) -> dict[str, Any]:
    """A merge done in the UI: the source's invoices move to the survivor (and count as updated), the source is
    gone (a GET answers 610, CDC shows it as deleted)."""
    if etype == "Customer":
        for invoice_id in sorted(realm.by_customer.get(source["Id"], set())):
            current = realm.rows["Invoice"][invoice_id]
            moved = copy.deepcopy(current)
            moved["CustomerRef"] = {"value": survivor["Id"], "name": survivor["DisplayName"]}
            moved["SyncToken"] = str(int(current["SyncToken"]) + 1)
            api.after_write(realm, "Invoice", moved, current)
        balance = realm.opening_balances.pop(source["Id"], Decimal("0"))
        realm.opening_balances[survivor["Id"]] = realm.opening_balances.get(survivor["Id"], Decimal("0")) + balance
    realm.delete(etype, source["Id"])
    if etype == "Customer":
        invoices.refresh_customer_balance(realm, survivor["Id"])
    return survivor


def set_country(realm: Realm, country: str) -> None:
    """Switch the tax model: "US" uses TAX/NON lines, anything else per-line TaxCodes."""
    realm.country = country
    realm.company_info["Country"] = country
    currency = realm.currency()
    realm.preferences["CurrencyPrefs"]["HomeCurrency"] = {"value": currency["value"]}
    if country != "US":
        realm.preferences["TaxPrefs"]["PartnerTaxEnabled"] = False
        realm.preferences["TaxPrefs"]["UsingSalesTax"] = True
    realm.touch()


def ui_update(realm: Realm, etype: str, current: dict[str, Any], patch: dict[str, Any],
              allow_balance: bool = False) -> dict[str, Any]:
    """An edit made by a person in QuickBooks: same rules as the API, bumps SyncToken and LastUpdatedTime."""
    patch = dict(patch)
    balance = patch.pop("Balance", None) if etype == "Invoice" else None
    if etype == "Customer" and allow_balance and patch.get("Active") is False:
        saved = current.get("Balance", 0)
        current["Balance"] = 0
        try:
            return ui_update(realm, etype, current, patch)
        finally:
            stored = realm.get(etype, current["Id"])
            if stored is not None:
                stored["Balance"] = saved
    merged = deep_merge({k: v for k, v in current.items() if k not in ("MetaData",)}, clean(patch))
    merged["sparse"] = True
    builder = api.builder_for(etype)
    obj = builder(realm, merged, current, True, {})
    obj["Id"] = current["Id"]
    obj["SyncToken"] = str(int(current["SyncToken"]) + 1)
    if balance is not None:
        apply_payment(realm, obj, float(balance))
    api.after_write(realm, etype, obj, current)
    return obj


def apply_payment(realm: Realm, obj: dict[str, Any], balance: float) -> None:
    """Lowering an invoice's Balance in the UI is receiving a payment: it links a Payment transaction."""
    balance = money(balance)
    if balance < 0 or balance > obj["TotalAmt"]:
        raise QboFault("6000", "A business validation error has occurred while processing your request",
                       "Business Validation Error: Balance must be between 0 and TotalAmt.", "Balance")
    if balance < obj["Balance"]:
        realm.payment_seq += 1
        obj.setdefault("LinkedTxn", []).append({"TxnId": str(1000 + realm.payment_seq), "TxnType": "Payment"})
    obj["Balance"] = balance
