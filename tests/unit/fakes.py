"""In-memory fakes of the two API clients (the Protocols of `stqbo_sync.clients`), for unit tests of the core.

They keep the behaviour the core relies on, as the real clients and the simulators show it, and raise the real
error classes of `stqbo_api.errors`:

QuickBooks (`FakeQuickBooks`): DisplayName unique across Customer, Vendor and Employee, trimmed and
case-insensitive, inactive ones included (6240 `DuplicateNameError` carrying the holder's Id); an inactive
name-list object carries " (deleted)"; updates need the current SyncToken (5010 `StaleObjectError`), are sparse by
default (top-level members replaced, so an address is sent whole) and bump the SyncToken and LastUpdatedTime;
strings are trimmed and empty members dropped, as QuickBooks stores them; `get` of an unknown Id is 610
`NotFoundError`; a write with a ``requestid`` seen before answers what the first one answered (the replay table);
queries without an ``Active`` condition return active objects only.

Synchroteam (`FakeSynchroteam`): `send_customer` creates, or updates by ``id`` (unknown id: 404) or by an
existing ``myId``, partially; an unchanged send keeps ``dateModified``; dates are minute-precision UTC text.

Every call is logged in ``calls``; `fail_next` makes a later call fail (optionally after applying a write, which
is how a lost reply looks).
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from stqbo_api.errors import (
    QUICKBOOKS,
    SYNCHROTEAM,
    ApiError,
    DuplicateNameError,
    NotFoundError,
    StaleObjectError,
    ValidationError,
)
from stqbo_api.quickbooks import BatchResult, CdcResult

NAME_ENTITIES = ("Customer", "Vendor", "Employee")
ACTIVE_ENTITIES = (*NAME_ENTITIES, "Item", "Account", "TaxCode", "TaxRate")
DELETED_SUFFIX = " (deleted)"
BATCH_SIZE = 30
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass
class Call:
    """One call a fake received: the method and its main arguments."""

    method: str
    args: tuple[Any, ...] = ()
    request_id: str | None = None


@dataclass
class _Fault:
    method: str
    error: ApiError
    match: str | None
    apply: bool


@dataclass
class _FakeBase:
    """Call log and fault injection shared by both fakes."""

    calls: list[Call] = field(default_factory=list, init=False)
    _faults: list[_Fault] = field(default_factory=list, init=False)

    def fail_next(self, method: str, error: ApiError, *, match: str | None = None, apply: bool = False) -> None:
        """Make the next call of ``method`` (whose arguments contain ``match``, if given) raise ``error``;
        ``apply=True`` performs the write first, so the caller sees an error although the write happened."""
        self._faults.append(_Fault(method, error, match, apply))

    def _log(self, method: str, *args: Any, request_id: str | None = None) -> None:
        self.calls.append(Call(method, args, request_id))

    def _fault(self, method: str, args: tuple[Any, ...]) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and (fault.match is None or fault.match in repr(args)):
                self._faults.remove(fault)
                return fault
        return None

    def _call(self, method: str, args: tuple[Any, ...], do: Callable[[], Any]) -> Any:
        fault = self._fault(method, args)
        if fault is None:
            return do()
        if fault.apply:
            do()
        raise fault.error

    def methods_called(self) -> list[str]:
        return [c.method for c in self.calls]


def _clean(value: Any) -> Any:
    """Trim strings and drop None and empty members, as QuickBooks does before it stores anything."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {k: v for k, v in ((k, _clean(v)) for k, v in value.items()) if v is not None and v != ""}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _name_key(name: str | None) -> str:
    """QuickBooks' uniqueness rule: case and leading, trailing or repeated whitespace ignored (Q1)."""
    return " ".join((name or "").split()).casefold()


def _qbo_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00")


# ----------------------------------------------------------------------------------------------- QuickBooks


class FakeQuickBooks(_FakeBase):
    """One QuickBooks company in memory. Seed with `add`; read `objects` in assertions."""

    def __init__(self, realm_id: str = "9130", environment: str = "sandbox", *,
                 base_url: str = "https://fake-quickbooks.invalid", preferences: dict[str, Any] | None = None,
                 company_info: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.realm_id = realm_id
        self.environment = environment
        self.base_url = base_url
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.deleted: dict[str, list[dict[str, Any]]] = {}
        self.replays: dict[str, tuple[str, Any]] = {}
        self.preferences = preferences or {
            "SalesFormsPrefs": {"CustomTxnNumbers": False}, "TaxPrefs": {"UsingSalesTax": True},
            "CurrencyPrefs": {"HomeCurrency": {"value": "USD"}, "MultiCurrencyEnabled": False}}
        self.company_info = company_info or {"Id": "1", "CompanyName": "Fake Company", "Country": "US"}
        self.now = START
        self._ids: dict[str, itertools.count[int]] = {}

    # ------------------------------------------------------------------------------------------- seeding

    def add(self, entity: str, **fields: Any) -> dict[str, Any]:
        """Store an object as if someone had created it in QuickBooks (no call logged, no checks but names)."""
        obj = self._stored(entity, {"Active": True, **_clean(fields)}, None)
        return copy.deepcopy(obj)

    def customers(self, active: bool | None = None) -> list[dict[str, Any]]:
        found = self.objects.get("Customer", {}).values()
        return [copy.deepcopy(o) for o in found if active is None or o.get("Active", True) is active]

    def _tick(self) -> str:
        self.now += timedelta(seconds=1)
        return _qbo_time(self.now)

    def _stored(self, entity: str, obj: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """Apply the server-side rules of a write and store the object."""
        if entity in NAME_ENTITIES or entity in ("Item", "Account"):
            self._apply_active(entity, obj, current)
            self._check_unique(entity, obj)
        stamp = self._tick()
        if current is None:
            obj["Id"] = str(obj.get("Id") or self._new_id(entity))
            obj["SyncToken"] = "0"
            obj["MetaData"] = obj.get("MetaData") or {"CreateTime": stamp, "LastUpdatedTime": stamp}
        else:
            obj["Id"], obj["SyncToken"] = current["Id"], str(int(current["SyncToken"]) + 1)
            obj["MetaData"] = {**current.get("MetaData", {}), "LastUpdatedTime": stamp}
        if entity == "Invoice" and "TotalAmt" not in obj:
            obj["TotalAmt"] = sum(float(line.get("Amount") or 0) for line in obj.get("Line", [])
                                  if line.get("DetailType") != "SubTotalLineDetail")
        self.objects.setdefault(entity, {})[obj["Id"]] = obj
        return obj

    def _new_id(self, entity: str) -> str:
        """Ids count per entity type, as in QuickBooks: a vendor 58 and a customer 58 may both exist."""
        ids = self._ids.setdefault(entity, itertools.count(1))
        taken = self.objects.get(entity, {})
        return next(str(i) for i in ids if str(i) not in taken)

    def _apply_active(self, entity: str, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
        name_field = "DisplayName" if entity in NAME_ENTITIES else "Name"
        if entity in NAME_ENTITIES and not obj.get("DisplayName"):
            built = " ".join(obj[f] for f in ("GivenName", "FamilyName") if obj.get(f))
            if not built:
                raise ValidationError("No Name Provided", api=QUICKBOOKS, status=400, code="6080",
                                      element="DisplayName")
            obj["DisplayName"] = built
        name = obj.get(name_field) or ""
        if obj.get("Active", True) is False and not name.endswith(DELETED_SUFFIX):
            obj[name_field] = name + DELETED_SUFFIX
        was_active = current is None or current.get("Active", True)
        if obj.get("Active", True) and not was_active and current is not None and name == current.get(name_field):
            obj[name_field] = name.removesuffix(DELETED_SUFFIX)

    def _check_unique(self, entity: str, obj: dict[str, Any]) -> None:
        """DisplayName is unique across customers, vendors and employees; Item and Account names per type."""
        scope, name_field = (NAME_ENTITIES, "DisplayName") if entity in NAME_ENTITIES else ((entity,), "Name")
        key = _name_key(obj.get(name_field))
        for other_entity in scope:
            for other in self.objects.get(other_entity, {}).values():
                if _name_key(other.get(name_field)) == key and (other_entity, other["Id"]) != (entity, obj.get("Id")):
                    raise DuplicateNameError(
                        "Duplicate name: Duplicate Name Exists Error: The name supplied already exists.",
                        existing_id=other["Id"], api=QUICKBOOKS, status=400, code="6240",
                        detail=f"The name supplied already exists. : Id={other['Id']}")

    # ------------------------------------------------------------------------------------------- writes

    def _write(self, method: str, args: tuple[Any, ...], request_id: str, do: Callable[[], Any]) -> Any:
        """A write with a ``requestid``: a replayed id answers what the first call answered."""
        self._log(method, *args, request_id=request_id)
        if request_id in self.replays:
            kind, answer = self.replays[request_id]
            if kind == "error":
                raise answer
            return copy.deepcopy(answer)

        def once() -> Any:
            try:
                result = do()
            except ApiError as err:
                self.replays[request_id] = ("error", err)
                raise
            self.replays[request_id] = ("ok", copy.deepcopy(result))
            return result

        return self._call(method, args, once)

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        return self._write("create", (entity, body), request_id,  # type: ignore[no-any-return]
                           lambda: self._create(entity, body))

    def update(self, entity: str, body: dict[str, Any], request_id: str, sparse: bool = True) -> dict[str, Any]:
        if not body.get("Id") or body.get("SyncToken") is None:
            raise ValueError(f"an update of {entity} needs Id and SyncToken in the body")
        return self._write("update", (entity, body), request_id,  # type: ignore[no-any-return]
                           lambda: self._update(entity, body, sparse))

    def _create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in _clean(body).items() if k not in ("Id", "SyncToken", "MetaData")}
        obj = {"Active": True, **data} if entity in ACTIVE_ENTITIES else data
        return copy.deepcopy(self._stored(entity, obj, None))

    def _update(self, entity: str, body: dict[str, Any], sparse: bool = True) -> dict[str, Any]:
        current = self._current(entity, str(body["Id"]))
        if str(body["SyncToken"]) != current["SyncToken"]:
            raise StaleObjectError("Stale object (SyncToken out of date): Stale Object Error", api=QUICKBOOKS,
                                   status=400, code="5010")
        data = {k: v for k, v in _clean(body).items() if k not in ("Id", "SyncToken", "sparse", "MetaData")}
        if sparse:
            obj = {**copy.deepcopy(current), **data}
        else:
            obj = {"Active": True, **data} if entity in ACTIVE_ENTITIES else data
        return copy.deepcopy(self._stored(entity, obj, current))

    def deactivate_customer(self, customer_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self.update("Customer", {"Id": str(customer_id), "SyncToken": str(sync_token), "Active": False},
                           request_id)

    def delete_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        def do() -> dict[str, Any]:
            current = self._current("Invoice", str(invoice_id))
            if str(sync_token) != current["SyncToken"]:
                raise StaleObjectError("Stale object (SyncToken out of date)", api=QUICKBOOKS, status=400,
                                       code="5010")
            del self.objects["Invoice"][current["Id"]]
            gone = {"Id": current["Id"], "status": "Deleted", "MetaData": {"LastUpdatedTime": self._tick()}}
            self.deleted.setdefault("Invoice", []).append(gone)
            return {"status": "Deleted", "Id": current["Id"]}

        return self._write("delete_invoice", (invoice_id,), request_id, do)  # type: ignore[no-any-return]

    def batch(self, items: list[dict[str, Any]], request_id_prefix: str | None = None) -> dict[str, BatchResult]:
        """Items in requests of 30 (chunk n carries ``<prefix>-n``); item failures come back as results."""
        results: dict[str, BatchResult] = {}
        prefix = request_id_prefix or f"fake-b-{len(self.calls)}"
        for n, start in enumerate(range(0, len(items), BATCH_SIZE)):
            chunk = items[start:start + BATCH_SIZE]
            results.update(self._write("batch", (chunk,), f"{prefix}-{n}", functools.partial(self._batch_chunk, chunk)))
        return results

    def _batch_chunk(self, chunk: list[dict[str, Any]]) -> dict[str, BatchResult]:
        return {str(item["bId"]): self._batch_item(item) for item in chunk}

    def _batch_item(self, item: dict[str, Any]) -> BatchResult:
        try:
            if "Query" in item:
                return BatchResult("QueryResponse", {"rows": list(self._select(item["Query"]))})
            operation = item.get("operation", "create")
            entity = next(k for k in item if k not in ("bId", "operation", "optionsData"))
            if operation == "create":
                return BatchResult(entity, self._create(entity, item[entity]))
            return BatchResult(entity, self._update(entity, item[entity]))
        except ApiError as err:
            return BatchResult(None, None, err)

    # ------------------------------------------------------------------------------------------- reads

    def _current(self, entity: str, entity_id: str) -> dict[str, Any]:
        found = self.objects.get(entity, {}).get(str(entity_id))
        if found is None:
            raise NotFoundError("Not found in QuickBooks: Object Not Found", api=QUICKBOOKS, status=400, code="610")
        return found

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        self._log("get", entity, str(entity_id))
        return self._call("get", (entity, entity_id),  # type: ignore[no-any-return]
                          lambda: copy.deepcopy(self._current(entity, str(entity_id))))

    def query(self, statement: str) -> Iterator[dict[str, Any]]:
        self._log("query", statement)
        rows: list[dict[str, Any]] = self._call("query", (statement,), lambda: list(self._select(statement)))
        return iter(rows)

    def _select(self, statement: str) -> Iterator[dict[str, Any]]:
        entity, conds, order = parse_query(statement)
        if entity in ACTIVE_ENTITIES and not any(c.prop == "Active" for c in conds):
            conds.append(_Cond("Active", "=", [True]))
        rows = [o for o in self.objects.get(entity, {}).values() if all(c.holds(o) for c in conds)]
        rows.sort(key=lambda o: (len(o["Id"]), o["Id"]) if order is None else str(_path(o, order) or ""))
        yield from (copy.deepcopy(o) for o in rows)

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CdcResult:
        self._log("cdc", tuple(entities), changed_since)
        since = changed_since if changed_since.tzinfo else changed_since.replace(tzinfo=UTC)

        def changed(entity: str) -> list[dict[str, Any]]:
            objs = [*self.objects.get(entity, {}).values(), *self.deleted.get(entity, [])]
            return [copy.deepcopy(o) for o in objs
                    if datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) >= since]

        return self._call("cdc", (tuple(entities),),  # type: ignore[no-any-return]
                          lambda: CdcResult({e: changed(e) for e in entities}, _qbo_time(self.now)))

    def find_name_holder(self, name: str) -> dict[str, Any] | None:
        """The customer, vendor or employee, active or not, holding ``name`` (any case, any spacing)."""
        self._log("find_name_holder", name)
        key = _name_key(name)
        return next(({**copy.deepcopy(o), "_entity": e} for e in NAME_ENTITIES
                     for o in self.objects.get(e, {}).values() if _name_key(o.get("DisplayName")) == key), None)

    def get_preferences(self) -> dict[str, Any]:
        self._log("get_preferences")
        return copy.deepcopy(self.preferences)

    def get_company_info(self) -> dict[str, Any]:
        self._log("get_company_info")
        return copy.deepcopy(self.company_info)


# ------------------------------------------------------------------------------------------- query language


@dataclass
class _Cond:
    prop: str
    op: str
    values: list[Any]

    def holds(self, obj: dict[str, Any]) -> bool:
        value = _path(obj, self.prop)
        if isinstance(value, dict):
            value = value.get("value", value.get("Address"))   # CustomerRef = '5', PrimaryEmailAddr = 'a@b'
        if self.prop == "Active":
            value = obj.get("Active", True)
        if self.op in ("=", "IN"):
            if self.prop in ("DisplayName", "Name"):   # looked up in a case-insensitive name index
                return _name_key(value) in {_name_key(v) for v in self.values}
            return any(value == v or str(value) == str(v) for v in self.values)
        if value is None:
            return False
        left, right = _comparable(value), _comparable(self.values[0])
        return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[self.op]


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\dT", value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _path(obj: dict[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


_QUERY = re.compile(r"^\s*SELECT\s+\*\s+FROM\s+(\w+)(?:\s+WHERE\s+(.*?))?(?:\s+ORDERBY\s+([\w.]+)(?:\s+ASC)?)?\s*$",
                    re.IGNORECASE | re.DOTALL)
_COND = re.compile(r"\s*([\w.]+)\s*(>=|<=|=|>|<|\bIN\b)\s*(\((?:[^()'\\]|'(?:\\.|[^'\\])*')*\)|'(?:\\.|[^'\\])*'"
                   r"|true|false|-?\d+(?:\.\d+)?)\s*(?:\bAND\b|$)", re.IGNORECASE)
_VALUE = re.compile(r"'((?:\\.|[^'\\])*)'|(true|false)|(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_query(statement: str) -> tuple[str, list[_Cond], str | None]:
    """The part of the QuickBooks query language the core sends: ``SELECT * FROM E [WHERE p op v [AND ...]]
    [ORDERBY p]`` with =, IN, <, <=, >, >=. Anything else is refused as QuickBooks refuses it (4000)."""
    m = _QUERY.match(statement)
    if m is None:
        raise _query_error(statement)
    entity, where, order = m.group(1), m.group(2) or "", m.group(3)
    conds, pos = [], 0
    while pos < len(where):
        c = _COND.match(where, pos)
        if c is None or c.end() == pos:
            raise _query_error(statement)
        conds.append(_Cond(c.group(1), c.group(2).upper(), [_literal(v) for v in _VALUE.finditer(c.group(3))]))
        pos = c.end()
    return entity, conds, order


def _literal(m: re.Match[str]) -> Any:
    if m.group(1) is not None:
        return re.sub(r"\\(.)", r"\1", m.group(1))
    if m.group(2) is not None:
        return m.group(2).lower() == "true"
    return float(m.group(3)) if "." in m.group(3) else m.group(3)


def _query_error(statement: str) -> ValidationError:
    return ValidationError(f"QuickBooks rejected the record: Error parsing query: {statement[:200]}",
                           api=QUICKBOOKS, status=400, code="4000")


# ----------------------------------------------------------------------------------------------- Synchroteam


ST_CUSTOMER_KEYS = ("id", "myId", "name", "address", "addressStreet", "addressComplement", "addressZIP",
                    "addressCity", "addressProvince", "addressCountry", "contactFirstName", "contactLastName",
                    "contactEmail", "contactPhone", "contactMobile", "contactFax", "vatNumber", "publicLink",
                    "customFieldValues", "position", "tags", "active", "dateCreated", "dateModified")
ST_WRITABLE = tuple(k for k in ST_CUSTOMER_KEYS if k not in ("id", "publicLink", "dateCreated", "dateModified"))


def _st_time(t: datetime, zone: ZoneInfo) -> str:
    """Synchroteam shows the account's local wall time (real-world fact S1)."""
    return t.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _st_after(stamp: str | None, since: datetime | None, zone: ZoneInfo) -> bool:
    if since is None:
        return True
    when = datetime.strptime(str(stamp)[:16], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    return when >= (since if since.tzinfo else since.replace(tzinfo=UTC)).replace(second=0, microsecond=0)


class FakeSynchroteam(_FakeBase):
    """One Synchroteam account in memory: customers, invoices and parts. Seed with the ``add_*`` methods."""

    def __init__(self, domain: str = "demo", timezone: str = "America/New_York") -> None:
        super().__init__()
        self.domain = domain
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.zone_mismatch: Any = None
        self.customers: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.parts: dict[str, dict[str, Any]] = {}
        self.now = START
        self._ids = itertools.count(1001)

    def _tick(self) -> str:
        self.now += timedelta(minutes=1)
        return _st_time(self.now, self.zone)

    def _error(self, cls: type[ApiError], status: int, message: str) -> ApiError:
        return cls(message, api=SYNCHROTEAM, status=status, code=str(status))

    # ------------------------------------------------------------------------------------------- seeding

    def add_customer(self, name: str, **fields: Any) -> dict[str, Any]:
        """A customer someone created in Synchroteam (no call logged)."""
        stamp = self._tick()
        record: dict[str, Any] = {k: None for k in ST_CUSTOMER_KEYS}
        record.update(id=next(self._ids), name=name, address=name, active=True, customFieldValues=[], tags=[],
                      dateCreated=stamp, dateModified=stamp)
        record.update(fields)
        self.customers[record["id"]] = record
        return dict(record)

    def add_invoice(self, **fields: Any) -> dict[str, Any]:
        stamp = self._tick()
        record = {"id": next(self._ids), "dateCreated": stamp, "dateModified": stamp, **fields}
        self.invoices[record["id"]] = record
        return copy.deepcopy(record)

    def add_part(self, reference: str, **fields: Any) -> dict[str, Any]:
        record = {"id": next(self._ids), "reference": reference, "dateModified": self._tick(), **fields}
        self.parts[reference.casefold()] = record
        return dict(record)

    def delete_customer(self, *, id: int | None = None, my_id: str | None = None) -> None:
        """Delete a customer (what a person does in Synchroteam); one already gone counts as deleted."""
        self._log("delete_customer", id, my_id)
        found = self._find(id=id, my_id=my_id, name=None)
        if found is not None:
            del self.customers[found["id"]]

    # ------------------------------------------------------------------------------------------- customers

    def to_utc(self, value: str) -> datetime:
        return datetime.strptime(value[:16], "%Y-%m-%d %H:%M").replace(tzinfo=self.zone).astimezone(UTC)

    def list_customers(self, changed_since: datetime | None = None, active: bool | None = None,
                       name: str | None = None) -> Iterator[dict[str, Any]]:
        """``name`` filters by prefix, ignoring case: a server-side filter the connector must not trust (S2)."""
        self._log("list_customers", changed_since, active)
        flags = [True, False] if active is None else [active]
        rows = [dict(c) for flag in flags for c in sorted(self.customers.values(), key=lambda c: c["id"])
                if c["active"] is flag and _st_after(c["dateModified"], changed_since, self.zone)
                and (name is None or _name_key(c["name"]).startswith(_name_key(name)))]
        return iter(self._call("list_customers", (changed_since, active), lambda: rows))

    def _find(self, *, id: int | None, my_id: str | None, name: str | None) -> dict[str, Any] | None:
        if id is not None:
            return self.customers.get(int(id))
        if my_id is not None:
            return next((c for c in self.customers.values() if c["myId"] == my_id), None)
        same = sorted((c for c in self.customers.values() if _name_key(c["name"]).startswith(_name_key(name))),
                      key=lambda c: c["id"])
        return same[0] if same else None

    def get_customer(self, *, id: int | None = None, my_id: str | None = None,
                     name: str | None = None) -> dict[str, Any] | None:
        given = {k: v for k, v in {"id": id, "my_id": my_id, "name": name}.items() if v is not None}
        if len(given) != 1:
            raise ValueError("get_customer takes exactly one of id, my_id, name")
        self._log("get_customer", *given.items())
        found = self._call("get_customer", tuple(given.items()), lambda: self._find(id=id, my_id=my_id, name=name))
        return None if found is None else dict(found)

    def send_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create, or update partially by ``id`` (unknown: 404) or by an existing ``myId``."""
        self._log("send_customer", dict(body))
        return self._call("send_customer", (body,), lambda: dict(self._send_customer(body)))  # type: ignore[no-any-return]

    def _send_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        current = None
        if body.get("id") is not None:
            current = self.customers.get(int(body["id"]))
            if current is None:
                raise self._error(NotFoundError, 404, f"Not found in Synchroteam: Customer {body['id']} not found")
        elif body.get("myId"):
            current = self._find(id=None, my_id=body["myId"], name=None)
        changes = {k: v for k, v in body.items() if k in ST_WRITABLE}
        holder = self._find(id=None, my_id=changes["myId"], name=None) if changes.get("myId") else None
        if holder is not None and holder is not current:
            raise self._error(ValidationError, 400, f"myId '{changes['myId']}' is already used by customer "
                                                    f"{holder['id']}")
        if current is None:
            if not (body.get("name") or "").strip() or not (body.get("address") or "").strip():
                raise self._error(ValidationError, 400, "'name' and 'address' are required to create a customer")
            return self.add_customer(**changes)
        updated = {**current, **changes}
        if updated != current:
            updated["dateModified"] = self._tick()
            self.customers[current["id"]] = updated
        return updated

    # ------------------------------------------------------------------------------------------- invoices, parts

    def list_invoices(self, changed_since: datetime | None = None, created_since: datetime | None = None,
                      paid_since: datetime | None = None, status: str | None = None,
                      customer_id: int | None = None) -> Iterator[dict[str, Any]]:
        self._log("list_invoices", changed_since, created_since, paid_since, status, customer_id)

        def keep(inv: dict[str, Any]) -> bool:
            return (_st_after(inv.get("dateModified"), changed_since, self.zone)
                    and _st_after(inv.get("dateCreated"), created_since, self.zone)
                    and (paid_since is None or (inv.get("datePaid") is not None
                                                and _st_after(inv["datePaid"], paid_since, self.zone)))
                    and (status is None or str(inv.get("status", "")).casefold() == status.casefold())
                    and (customer_id is None or (inv.get("customer") or {}).get("id") == customer_id))

        rows = [copy.deepcopy(i) for i in sorted(self.invoices.values(), key=lambda i: (i["dateCreated"], i["id"]),
                                                  reverse=True) if keep(i)]
        return iter(self._call("list_invoices", (changed_since, status, customer_id), lambda: rows))

    def get_invoice(self, id: int) -> dict[str, Any] | None:
        self._log("get_invoice", id)
        found = self._call("get_invoice", (id,), lambda: self.invoices.get(int(id)))
        return None if found is None else copy.deepcopy(found)

    def list_parts(self, changed_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        self._log("list_parts", changed_since)
        rows = [dict(p) for p in sorted(self.parts.values(), key=lambda p: p["id"])
                if _st_after(p["dateModified"], changed_since, self.zone)]
        return iter(self._call("list_parts", (changed_since,), lambda: rows))

    def get_part(self, reference: str) -> dict[str, Any] | None:
        self._log("get_part", reference)
        found = self._call("get_part", (reference,), lambda: self.parts.get(reference.casefold()))
        return None if found is None else dict(found)
