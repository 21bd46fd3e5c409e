"""What each API call does to an account's data, independent of HTTP (the routes only parse and render).

Chosen rules for UNCONFIRMED details are listed in docs/simulators.md; the ones that shape code are noted here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulators.synchroteam import customers, invoices, parts
from simulators.synchroteam.clock import parse_filter_date, parse_seed_datetime
from simulators.synchroteam.errors import ApiError, bad_request, not_found
from simulators.synchroteam.store import Account

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
Params = Mapping[str, str]


# ----------------------------------------------------------------------------------------------- parameters


def int_param(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if not re.fullmatch(r"-?\d{1,18}", str(raw)):
        raise bad_request(f"'{name}' must be an integer, got '{raw}'")
    return int(raw)


def bool_param(params: Params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise bad_request(f"'{name}' must be true or false, got '{raw}'")


def date_param(params: Params, name: str, zone: ZoneInfo) -> datetime | None:
    """A lower-bound date filter (`changedSince`, ...) in the account's local time, as an instant."""
    raw = params.get(name)
    return None if raw is None or raw == "" else parse_filter_date(name, raw, zone)


def paging(params: Params) -> tuple[int, int]:
    page = int_param(params, "page")
    size = int_param(params, "pageSize")
    page = 1 if page is None else page
    size = DEFAULT_PAGE_SIZE if size is None else size
    if page < 1:
        raise bad_request("'page' starts at 1")
    if size < 1 or size > MAX_PAGE_SIZE:
        raise bad_request(f"'pageSize' must be between 1 and {MAX_PAGE_SIZE}")
    return page, size


def envelope(params: Params, ids: list[int], render: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """`{page, pageSize, records, recordsTotal, data}`: `records` counts the rows of this page (facts file, S3)."""
    page, size = paging(params)
    start = (page - 1) * size
    data = [render(rid) for rid in ids[start : start + size]]
    return {"page": page, "pageSize": size, "records": len(data), "recordsTotal": len(ids), "data": data}


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts_ = [re.escape(p) for p in re.split(r"[*%]", pattern)]
    return re.compile(".*".join(parts_), re.IGNORECASE | re.DOTALL)


# ----------------------------------------------------------------------------------------------- customers


def render_customer(account: Account, rid: int) -> dict[str, Any]:
    return customers.render(account.customers.by_id[rid], account.zone)


def list_customers(account: Account, params: Params) -> dict[str, Any]:
    active = bool_param(params, "active", True)
    since = date_param(params, "changedSince", account.zone)
    name = params.get("name") or None
    email = params.get("email") or None
    table = account.customers
    paging(params)  # a bad page or pageSize is a 400 before any work
    if since is None and name is None and email is None:
        return envelope(params, table.by_active[active], lambda rid: render_customer(account, rid))

    def compute() -> list[int]:
        if since is not None:
            ids = table.changed_since(since)
        elif name is not None and not re.search(r"[*%]", name):
            ids = sorted(table.by_name.get(customers.name_key(name), ()))
        elif email is not None:
            ids = sorted(table.by_email.get(customers.name_key(email), ()))
        else:
            ids = table.ids
        by_id = table.by_id
        result = [rid for rid in ids if by_id[rid]["active"] is active]
        if name is not None:
            rx = _wildcard(name)
            result = [rid for rid in result if rx.fullmatch(by_id[rid]["name"] or "")]
        if email is not None:
            key = customers.name_key(email)
            result = [rid for rid in result if customers.name_key(by_id[rid]["contactEmail"]) == key]
        return result

    ids = table.cache.get(("customers", active, since, name, email), compute)
    return envelope(params, ids, lambda rid: render_customer(account, rid))


def find_customer(account: Account, params: Params, exact_name: bool = False) -> dict[str, Any]:
    """`id` wins, then `myId`, then `name`.

    `name` answers the FIRST customer (lowest id, active or not) whose name STARTS WITH the value, ignoring
    case: the reading of `details?name=` hardest on a client (facts file, row S2), so "Smith" may answer
    "Smith Plumbing". An account set to `name_lookup: exact` (lenient, for debugging), and the simulator's own
    seeds (``exact_name``), match the whole name instead, still ignoring case.
    """
    table = account.customers
    rid = int_param(params, "id")
    if rid is not None:
        found = table.by_id.get(rid)
    elif params.get("myId"):
        found = table.by_id.get(table.by_myid.get(params["myId"], -1))
    elif params.get("name"):
        exact = exact_name or account.name_lookup == "exact"
        hit = table.first_with_name(params["name"]) if exact else table.first_with_prefix(params["name"])
        found = None if hit is None else table.by_id[hit]
    else:
        raise bad_request("Give 'id', 'myId' or 'name'")
    if found is None:
        raise not_found("Customer not found")
    return found


def send_customer(account: Account, body: Any, now: datetime, public_link: Callable[[int], str]) -> dict[str, Any]:
    """Create or partially update: `id` wins (unknown id is a 404), else an existing `myId` updates, else create."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    table = account.customers
    current: dict[str, Any] | None = None
    if body.get("id") is not None:
        rid = body["id"]
        if isinstance(rid, str) and rid.isdigit():
            rid = int(rid)
        if isinstance(rid, bool) or not isinstance(rid, int):
            raise bad_request("'id' must be an integer")
        current = table.by_id.get(rid)
        if current is None:
            raise not_found(f"Customer {rid} not found")
    elif isinstance(body.get("myId"), str) and body["myId"] in table.by_myid:
        current = table.by_id[table.by_myid[body["myId"]]]
    if current is None:
        customers.check_required(body)
        record = customers.apply_changes(customers.blank_customer(-1, now, ""), body)
        _check_myid_free(account, record, None)
        record["id"] = table.allocate_id()
        record["publicLink"] = public_link(record["id"])
        table.insert(record)
        return record
    return _update_customer(account, current, body, now)


def _update_customer(account: Account, current: dict[str, Any], body: dict[str, Any], now: datetime,
                     always_bump: bool = False) -> dict[str, Any]:
    updated = customers.apply_changes(current, body)
    _check_myid_free(account, updated, current["id"])
    if customers.same_content(current, updated) and not always_bump:
        return current
    updated["dateModified"] = now
    account.customers.replace(updated)
    return updated


def _check_myid_free(account: Account, record: dict[str, Any], own_id: int | None) -> None:
    my_id = record.get("myId")
    holder = account.customers.by_myid.get(my_id) if my_id else None
    if holder is not None and holder != own_id:
        raise bad_request(f"myId '{my_id}' is already used by customer {holder}")


def delete_customer(account: Account, params: Params) -> dict[str, Any]:
    """API deletion; refused while invoices reference the customer (the stricter reading, UNCONFIRMED)."""
    if int_param(params, "id") is None and not params.get("myId"):
        raise bad_request("Give 'id' or 'myId'")
    record = find_customer(account, {k: v for k, v in params.items() if k in ("id", "myId")})
    if any(inv["customer"]["id"] == record["id"] for inv in account.invoices.by_id.values()):
        raise bad_request(f"Customer {record['id']} has invoices and cannot be deleted")
    return account.customers.remove(record["id"])


def seed_customer(account: Account, body: Any, now: datetime, public_link: Callable[[int], str]) -> dict[str, Any]:
    """A customer as the seed gives it: ids and dates may be set; the API's validation applies otherwise."""
    if not isinstance(body, dict):
        raise bad_request("each customer must be an object")
    customers.check_required(body)
    record = customers.apply_changes(customers.blank_customer(-1, now, ""), body)
    _seed_dates(record, body, now, account.zone)
    if body.get("id") is not None:
        if not isinstance(body["id"], int) or body["id"] in account.customers.by_id:
            raise bad_request(f"customer id {body['id']!r} is not a free integer")
        record["id"] = body["id"]
    else:
        record["id"] = account.customers.allocate_id()
    record["publicLink"] = body.get("publicLink") or public_link(record["id"])
    return record


def seed_customers(account: Account, bodies: list[Any], now: datetime,
                   public_link: Callable[[int], str]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    seen_ids: set[int] = set()
    seen_myids: set[str] = set()
    for body in bodies:
        record = seed_customer(account, body, now, public_link)
        if record["id"] in seen_ids:
            raise bad_request(f"customer id {record['id']} given twice")
        my_id = record.get("myId")
        if my_id and (my_id in seen_myids or my_id in account.customers.by_myid):
            raise bad_request(f"myId '{my_id}' is already used")
        seen_ids.add(record["id"])
        if my_id:
            seen_myids.add(my_id)
        account.customers.next_id = max(account.customers.next_id, record["id"] + 1)
        records.append(record)
    account.customers.bulk_insert(records)
    return records


def ui_edit_customer(account: Account, rid: int, body: Any, now: datetime) -> dict[str, Any]:
    """A person saving the customer form: any field may change and `dateModified` always moves."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    current = account.customers.by_id.get(rid)
    if current is None:
        raise not_found("Customer not found")
    return _update_customer(account, current, body, now, always_bump=True)


# ----------------------------------------------------------------------------------------------- parts


def render_part(account: Account, record: dict[str, Any]) -> dict[str, Any]:
    tax = record.get("tax")
    tax_id = account.tax_id(tax["name"], float(tax["rate"])) if tax else None
    return parts.render(record, tax_id, account.zone)


def list_parts(account: Account, params: Params) -> dict[str, Any]:
    kind = params.get("type") or None
    if kind is not None and kind.lower() not in parts.TYPES:
        raise bad_request("'type' must be part or service")
    since = date_param(params, "changedSince", account.zone)
    paging(params)

    def compute() -> list[int]:
        return sorted(
            rid for rid, p in account.parts.by_id.items()
            if (kind is None or p["type"] == kind.lower()) and (since is None or p["dateModified"] >= since)
        )

    ids = account.parts.cache.get(("parts", kind, since), compute)
    return envelope(params, ids, lambda rid: render_part(account, account.parts.by_id[rid]))


def find_part(account: Account, params: Params) -> dict[str, Any]:
    rid = int_param(params, "id")
    if params.get("reference"):
        found = account.part_by_reference(params["reference"])
    elif rid is not None:
        found = account.parts.by_id.get(rid)
    else:
        raise bad_request("Give 'reference' or 'id'")
    if found is None:
        raise not_found("Part not found")
    return found


def send_part(account: Account, body: Any, now: datetime, *, always_bump: bool = False,
              seed: bool = False) -> dict[str, Any]:
    """Upsert keyed by `reference` (case-insensitive); an unchanged part keeps its `dateModified`."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise bad_request("'reference' is required")
    current = account.part_by_reference(reference)
    if current is None:
        record = parts.apply_changes(parts.blank_part(-1, reference, now), body)
        if seed:
            _seed_dates(record, body, now, account.zone)
        wanted = body.get("id") if seed else None
        if wanted is not None and (not isinstance(wanted, int) or wanted in account.parts.by_id):
            raise bad_request(f"part id {wanted!r} is not a free integer")
        record["id"] = wanted if wanted is not None else account.parts.allocate_id()
        account.parts.put(record)
        return record
    updated = parts.apply_changes(current, body)
    if parts.same_content(current, updated) and not always_bump:
        return current
    updated["dateModified"] = now
    account.parts.put(updated)
    return updated


def _seed_dates(record: dict[str, Any], body: dict[str, Any], now: datetime, zone: ZoneInfo) -> None:
    """Seeds may backdate records (local times, as the API shows them); `dateModified` defaults to
    `dateCreated`, which defaults to now."""
    created = parse_seed_datetime("dateCreated", body["dateCreated"], zone) if body.get("dateCreated") else now
    record["dateCreated"] = created
    record["dateModified"] = (
        parse_seed_datetime("dateModified", body["dateModified"], zone) if body.get("dateModified") else created
    )


# ----------------------------------------------------------------------------------------------- invoices


def customer_ref(account: Account, invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice's customer as it stands now (renames show), or the last known reference if it was deleted."""
    current = account.customers.by_id.get(invoice["customer"]["id"])
    if current is None:
        return dict(invoice["customer"])
    return {"id": current["id"], "myId": current["myId"], "name": current["name"]}


def render_invoice(account: Account, record: dict[str, Any]) -> dict[str, Any]:
    return invoices.render(record, customer_ref(account, record), account.zone)


def list_invoices(account: Account, params: Params) -> dict[str, Any]:
    status = params.get("status") or None
    if status is not None:
        status = invoices.status_key(invoices.parse_status(status))
    customer_id = int_param(params, "customerId")
    customer_myid = params.get("customerMyId") or None
    changed = date_param(params, "changedSince", account.zone)
    created = date_param(params, "createdSince", account.zone)
    paid = date_param(params, "paidSince", account.zone)
    paging(params)

    def keep(inv: dict[str, Any]) -> bool:
        ref = customer_ref(account, inv)
        return (
            (status is None or invoices.status_key(inv["status"]) == status)
            and (customer_id is None or ref["id"] == customer_id)
            and (customer_myid is None or ref["myId"] == customer_myid)
            and (changed is None or inv["dateModified"] >= changed)
            and (created is None or inv["dateCreated"] >= created)
            and (paid is None or (inv["datePaid"] is not None and inv["datePaid"] >= paid))
        )

    def compute() -> list[int]:
        kept = [inv for inv in account.invoices.by_id.values() if keep(inv)]
        kept.sort(key=lambda inv: (inv["dateCreated"], inv["id"]), reverse=True)
        return [inv["id"] for inv in kept]

    key = ("invoices", status, customer_id, customer_myid, changed, created, paid, account.customers.cache.version)
    ids = account.invoices.cache.get(key, compute)
    return envelope(params, ids, lambda rid: render_invoice(account, account.invoices.by_id[rid]))


def find_invoice(account: Account, params: Params) -> dict[str, Any]:
    rid = int_param(params, "id")
    num = int_param(params, "num")
    if rid is not None:
        found = account.invoices.by_id.get(rid)
    elif num is not None:
        found = next((inv for inv in account.invoices.by_id.values() if inv["num"] == num), None)
    else:
        raise bad_request("Give 'id' or 'num'")
    if found is None:
        raise not_found("Invoice not found")
    return found


def _resolve_customer(account: Account, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        ref = {k: str(v) if k != "id" else v for k, v in value.items() if k in ("id", "myId", "name") and v is not None}
    else:
        raise bad_request("'customer' must be an object with 'id', 'myId' or 'name'")
    try:
        record = find_customer(account, ref, exact_name=True)
    except ApiError as exc:
        raise bad_request(f"invoice customer {value!r} not found") from exc
    return {"id": record["id"], "myId": record["myId"], "name": record["name"]}


def _finish_invoice(account: Account, record: dict[str, Any], previous: dict[str, Any] | None,
                    now: datetime) -> None:
    """Numbering and payment date rules shared by seeds and UI edits (any status but `draft` is numbered)."""
    status = invoices.status_key(record["status"])
    if status == "draft":
        if record["num"] is not None:
            raise bad_request("a draft invoice has no number yet")
    elif record["num"] is None:
        record["num"] = account.next_invoice_num
    if previous is not None and invoices.status_key(previous["status"]) != "draft" and status == "draft":
        raise bad_request("a numbered invoice cannot go back to draft")
    num = record["num"]
    if num is not None:
        clash = next((i for i in account.invoices.by_id.values() if i["num"] == num and i["id"] != record["id"]), None)
        if clash is not None:
            raise bad_request(f"invoice number {num} is already used by invoice {clash['id']}")
        account.next_invoice_num = max(account.next_invoice_num, num + 1)
        if record.get("reference") is None:
            record["reference"] = f"INV-{num}"
    if status == "paid" and record["datePaid"] is None:
        record["datePaid"] = now


def seed_invoice(account: Account, body: Any, now: datetime) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("each invoice must be an object")
    if "customer" not in body:
        raise bad_request("an invoice needs a 'customer'")
    rid = body.get("id")
    if rid is not None and (not isinstance(rid, int) or rid in account.invoices.by_id):
        raise bad_request(f"invoice id {rid!r} is not a free integer")
    record = invoices.apply_changes(invoices.blank_invoice(rid if rid is not None else -1, now), body, account.zone)
    record["customer"] = _resolve_customer(account, body["customer"])
    if not body.get("dateModified"):
        record["dateModified"] = record["dateCreated"] if body.get("dateCreated") else now
    if record["id"] == -1:
        record["id"] = account.invoices.allocate_id()
    _finish_invoice(account, record, None, now)
    account.invoices.put(record)
    return record


def ui_edit_invoice(account: Account, rid: int, body: Any, now: datetime) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    current = account.invoices.by_id.get(rid)
    if current is None:
        raise not_found("Invoice not found")
    updated = invoices.apply_changes(current, {k: v for k, v in body.items() if k != "id"}, account.zone)
    if "customer" in body:
        updated["customer"] = _resolve_customer(account, body["customer"])
    if "dateModified" not in body:
        updated["dateModified"] = now
    _finish_invoice(account, updated, current, now)
    account.invoices.put(updated)
    return updated
