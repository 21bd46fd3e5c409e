"""The Accounting API v3 resources under /v3/company/{realmId}: reads, writes, query, CDC, batch, preferences.

`handle` takes an already authenticated request and answers (status, body without the envelope `time`);
QuickBooks faults are raised as QboFault and turned into HTTP 400 `Fault` bodies here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from simulators.quickbooks import entities, invoices, query
from simulators.quickbooks.core import (
    QboFault,
    bad_property,
    business,
    dec,
    invalid_id,
    not_found,
    parse_error,
    parse_qbo_datetime,
    qbo_time,
    query_invalid,
    required,
    stale,
    unsupported,
)
from simulators.quickbooks.store import Realm

ENTITY_PATHS = {
    "customer": "Customer", "vendor": "Vendor", "employee": "Employee", "item": "Item", "account": "Account",
    "taxcode": "TaxCode", "taxrate": "TaxRate", "invoice": "Invoice",
}
CDC_ENTITIES = ("Customer", "Vendor", "Employee", "Item", "Account", "Invoice")
# Intuit's CDC page: change tracking is not available for these; every other real entity is (facts Q6).
NO_CDC = ("JournalCode", "TaxAgency", "TimeActivity", "TaxCode", "TaxRate")
UNMODELLED_PATHS = {name.lower(): name for name in query.UNMODELLED}
BATCH_MAX = 30
CDC_MAX = 1000
CDC_LOOKBACK = 30 * 86400

Builder = Callable[[Realm, dict[str, Any], dict[str, Any] | None, bool, dict[str, str]], dict[str, Any]]


def builder_for(etype: str) -> Builder:
    if etype in ("Customer", "Vendor", "Employee"):
        return lambda realm, body, current, sparse, params: entities.build_person(realm, etype, body, current, sparse)
    if etype == "Item":
        return lambda realm, body, current, sparse, params: entities.build_item(realm, body, current, sparse)
    if etype == "Account":
        return lambda realm, body, current, sparse, params: entities.build_account(realm, body, current, sparse)
    if etype == "Invoice":
        return invoices.build_invoice
    raise QboFault("500", "Unsupported Operation", f"Operation Create/Update is not supported for {etype}.")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8") if body else "")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_property(f"Unable to parse the request body as JSON: {exc}") from exc


def handle(realm: Realm, method: str, sub: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
    try:
        return 200, route(realm, method, sub, params, body)
    except QboFault as fault:
        return fault.status, {"Fault": fault.fault()}


def route(realm: Realm, method: str, sub: str, params: dict[str, str], body: bytes) -> Any:
    parts = [p for p in sub.split("/") if p]
    full = f"/v3/company/{realm.id}/{sub}"
    if parts == ["query"] and method in ("GET", "POST"):
        text = params.get("query") if method == "GET" else body.decode("utf-8", "replace")
        if not text or not text.strip():
            raise parse_error("Encountered \"<EOF>\" at line 1, column 0. Was expecting: SELECT")
        return query.run(realm, text)
    if parts == ["cdc"] and method == "GET":
        return cdc(realm, params)
    if parts == ["batch"] and method == "POST":
        return batch(realm, parse_json(body), params)
    if parts == ["preferences"]:
        if method == "GET":
            return {"Preferences": realm.preferences}
        if method == "POST":
            return {"Preferences": update_preferences(realm, parse_json(body))}
    if len(parts) == 2 and parts[0] == "companyinfo" and method == "GET":
        if parts[1] != realm.id:
            raise not_found()
        return {"CompanyInfo": realm.company_info}
    if parts and parts[0] in ENTITY_PATHS:
        etype = ENTITY_PATHS[parts[0]]
        if len(parts) == 1 and method == "POST":
            payload = parse_json(body)
            if not isinstance(payload, dict):
                raise bad_property("The request body must be a JSON object")
            return write(realm, etype, payload, params)
        if len(parts) == 2 and method == "GET":
            return {etype: read(realm, etype, parts[1])}
        if len(parts) == 3 and parts[2] == "pdf" and etype == "Invoice" and method == "GET":
            read(realm, etype, parts[1])
            return b"%PDF-1.4\n% QuickBooks simulator invoice " + parts[1].encode() + b"\n%%EOF\n"
    if len(parts) == 2 and parts[0] in UNMODELLED_PATHS and method == "GET":
        entities.check_id(parts[1])
        raise not_found()  # a real entity the simulator never holds: no such record
    raise unsupported(full)


def read(realm: Realm, etype: str, raw_id: str) -> dict[str, Any]:
    obj_id = raw_id if etype == "TaxCode" and raw_id in ("TAX", "NON") else entities.check_id(raw_id)
    obj = realm.get(etype, obj_id)
    if obj is None:
        raise not_found()
    return obj


def write(realm: Realm, etype: str, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    operation = params.get("operation", "").lower()
    if operation == "delete":
        return {etype: delete(realm, etype, body)}
    if operation == "void":
        if etype != "Invoice":
            raise QboFault("500", "Unsupported Operation", f"Operation void is not supported for {etype}.")
        current = entities.load_for_update(realm, etype, body)
        voided = realm.store(etype, invoices.void_invoice(realm, current))
        invoices.refresh_customer_balance(realm, voided["CustomerRef"]["value"])
        return {etype: voided}
    if operation not in ("", "create", "update"):
        raise QboFault("500", "Unsupported Operation", f"Operation {operation} is not supported.")
    build = builder_for(etype)
    if body.get("Id") not in (None, ""):
        return {etype: update(realm, etype, body, params, build)}
    obj = build(realm, body, None, False, params)
    obj["Id"] = realm.new_id(etype)
    obj["SyncToken"] = "0"
    after_write(realm, etype, obj, None)
    return {etype: obj}


def update(realm: Realm, etype: str, body: dict[str, Any], params: dict[str, str], build: Builder) -> dict[str, Any]:
    current = entities.load_for_update(realm, etype, body)
    sparse = body.get("sparse") in (True, "true")
    obj = build(realm, body, current, sparse, params)
    obj["Id"] = current["Id"]
    obj["SyncToken"] = str(int(current["SyncToken"]) + 1)
    after_write(realm, etype, obj, current)
    return obj


def after_write(realm: Realm, etype: str, obj: dict[str, Any], current: dict[str, Any] | None,
                times: tuple[float, float] | None = None) -> None:
    """Store and keep derived figures (customer balances) in step."""
    if etype == "Customer" and current is None:
        realm.opening_balances[obj["Id"]] = dec(obj.get("Balance", 0))
    realm.store(etype, obj, times)
    if etype == "Customer" and current is not None and current["DisplayName"] != obj["DisplayName"]:
        rename_references(realm, obj)
    if etype == "Invoice":
        if current is None and invoices.DOC_RE.match(obj.get("DocNumber") or ""):
            realm.last_doc_number = obj["DocNumber"]  # only a stored invoice moves the counter
        invoices.refresh_customer_balance(realm, obj["CustomerRef"]["value"])
        if current is not None and current["CustomerRef"]["value"] != obj["CustomerRef"]["value"]:
            invoices.refresh_customer_balance(realm, current["CustomerRef"]["value"])


def rename_references(realm: Realm, customer: dict[str, Any]) -> None:
    """References carry the current name (QBO resolves them on read); the invoices themselves do not change."""
    for invoice_id in realm.by_customer.get(customer["Id"], set()):
        realm.rows["Invoice"][invoice_id]["CustomerRef"]["name"] = customer["DisplayName"]
    realm.touch()


def delete(realm: Realm, etype: str, body: dict[str, Any]) -> dict[str, Any]:
    """Only transactions can be deleted; name-list entities are made inactive instead."""
    if etype != "Invoice":
        raise QboFault("500", "Unsupported Operation", f"Operation Delete is not supported for {etype}.")
    if body.get("Id") in (None, ""):
        raise required("Id")
    current = entities.load_for_update(realm, etype, body)
    realm.delete(etype, current["Id"])
    realm.voided.discard(current["Id"])
    invoices.refresh_customer_balance(realm, current["CustomerRef"]["value"])
    return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}


def update_preferences(realm: Realm, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_property("The request body must be a JSON object")
    if "SyncToken" not in body:
        raise required("SyncToken")
    if str(body["SyncToken"]) != realm.preferences["SyncToken"]:
        raise stale()
    for key, value in body.items():
        if key in realm.preferences and isinstance(value, dict) and isinstance(realm.preferences[key], dict):
            realm.preferences[key].update(copy.deepcopy(value))
        elif key not in ("Id", "SyncToken", "MetaData", "domain", "sparse") and key in realm.preferences:
            realm.preferences[key] = copy.deepcopy(value)
    bump_preferences(realm)
    return realm.preferences


def bump_preferences(realm: Realm) -> None:
    realm.preferences["SyncToken"] = str(int(realm.preferences["SyncToken"]) + 1)
    created = realm.preferences.get("MetaData", {}).get("CreateTime", qbo_time(realm.clock.ts()))
    realm.preferences["MetaData"] = {"CreateTime": created, "LastUpdatedTime": qbo_time(realm.clock.ts())}
    realm.touch()


def cdc(realm: Realm, params: dict[str, str]) -> dict[str, Any]:
    """Changes since a time (at most 30 days back), at most 1000 objects; deletions as tombstones."""
    raw_entities = params.get("entities", "")
    if not raw_entities.strip():
        raise required("entities")
    if not params.get("changedSince"):
        raise required("changedSince")
    names = []
    for raw in raw_entities.split(","):
        name = query.ENTITY_NAMES.get(raw.strip().lower()) or query.UNMODELLED_NAMES.get(raw.strip().lower())
        if name is None or name in NO_CDC or (name not in CDC_ENTITIES and name in query.SPEC):
            raise query_invalid(f"CDC is not supported for entity {raw.strip()}")
        if name not in names and name in CDC_ENTITIES:  # an unmodelled entity has no changes to report
            names.append(name)
    try:
        since = parse_qbo_datetime(params["changedSince"])
    except ValueError as exc:
        raise bad_property(f"changedSince is not a valid date-time. Supplied value:{params['changedSince']}") from exc
    if since < realm.clock.ts() - CDC_LOOKBACK:
        raise business("changedSince cannot be more than 30 days in the past.", "changedSince")
    found: list[tuple[float, int, str, dict[str, Any]]] = []
    for name in names:
        for obj_id, (_created, updated) in realm.times[name].items():
            if updated >= since:
                found.append((updated, 0, name, realm.rows[name][obj_id]))
        for obj_id, deleted in realm.tombstones[name].items():
            if deleted >= since:
                tomb = {"domain": "QBO", "status": "Deleted", "Id": obj_id,
                        "MetaData": {"LastUpdatedTime": qbo_time(deleted)}}
                found.append((deleted, 1, name, tomb))
    found.sort(key=lambda row: row[0])
    found = found[:CDC_MAX]
    groups = []
    for name in names:
        objs = [row for row in found if row[2] == name]
        objs.sort(key=lambda row: (row[1], row[0]))
        if objs:
            groups.append({name: [row[3] for row in objs], "startPosition": 1, "maxResults": len(objs)})
    return {"CDCResponse": [{"QueryResponse": groups or [{}]}]}


def batch(realm: Realm, body: Any, params: dict[str, str]) -> dict[str, Any]:
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise required("BatchItemRequest")
    if len(items) > BATCH_MAX:
        raise business(f"The batch request contains {len(items)} items; at most {BATCH_MAX} are allowed.",
                       "BatchItemRequest")
    seen: set[str] = set()
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        if not bid:
            raise required("bId")
        if bid in seen:
            raise business(f"Duplicate bId {bid} in the batch request.", "bId")
        seen.add(bid)
    return {"BatchItemResponse": [batch_item(realm, item, params) for item in items]}


def batch_item(realm: Realm, item: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    bid = item["bId"]
    try:
        if "Query" in item:
            answer = query.run(realm, str(item["Query"]))
            return {"QueryResponse": answer["QueryResponse"], "bId": bid}
        found = [k for k in item if k in ENTITY_PATHS.values()]
        if len(found) != 1:
            raise bad_property("A batch item needs exactly one entity or a Query")
        etype = found[0]
        operation = str(item.get("operation", "")).lower()
        item_params = {k: v for k, v in params.items() if k != "requestid"}
        if operation == "delete":
            item_params["operation"] = "delete"
        elif operation == "update" and item.get("optionsData") == "void":
            item_params["operation"] = "void"
        elif operation not in ("create", "update"):
            raise bad_property(f"operation has an invalid value. Supplied value:{item.get('operation')}", "operation")
        payload = item[etype]
        if not isinstance(payload, dict):
            raise bad_property(f"{etype} must be an object")
        if operation == "create" and payload.get("Id") not in (None, ""):
            raise invalid_id(payload.get("Id"))
        if operation == "update" and payload.get("Id") in (None, ""):
            raise required("Id")
        result = write(realm, etype, payload, item_params)
        return {**result, "bId": bid}
    except QboFault as fault:
        return {"Fault": fault.fault(), "bId": bid}
