"""Probes of the QuickBooks company: name rules (Q1), query order (Q2), throttling (Q3), the query language's
``CustomerRef IN`` and ``MAXRESULTS``, and void (Q8).

Reads go through `QuickBooksWire` (the query exactly as written, the answer as sent). Writes go through the
client (request ids, retries of lost replies) and only with ``--write`` on a sandbox company; every record they
create is named ``stqbo conformance <token> ...`` and is made inactive (customers) or deleted (invoices) at the
end of the run.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from stqbo_api.errors import ApiError, DuplicateNameError
from stqbo_api.quickbooks import QuickBooksClient, escape_query_value
from stqbo_conformance.context import Context, NotChecked
from stqbo_conformance.facts import Observation, Verdict
from stqbo_conformance.wire import Exchange, QuickBooksWire, fault_of, query_rows

BURST = 15          # requests fired at once: over the 10 in flight and 10 a second QuickBooks allows
BURST_ROUNDS = 3    # at most 45 requests, well under the 500 a minute of a realm
CUSTOMER_PATH = "POST /v3/company/{realm}/customer"


def _rows(ex: Exchange, what: str) -> list[dict[str, Any]]:
    fault = fault_of(ex)
    if ex.status != 200 or fault:
        raise NotChecked(f"unknown: the query for {what} failed (HTTP {ex.status}, {fault or 'no fault'})")
    return query_rows(ex)


def _brief(ctx: Context, rows: list[dict[str, Any]], limit: int = 8) -> list[str]:
    return [f"{r.get('Id')}: {ctx.name(r.get('DisplayName'))}" for r in rows[:limit]]


# ------------------------------------------------------------------------------------- Q1 query case


def query_case(ctx: Context) -> Observation:
    """Query an existing customer's DisplayName exactly, then with its case swapped."""
    _, wire = ctx.quickbooks()
    listing = wire.query("SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id MAXRESULTS 100")
    rows = _rows(listing, "customers")
    target = next((r for r in rows if str(r.get("DisplayName") or "").swapcase() != str(r.get("DisplayName") or "")),
                  None)
    if target is None:
        raise NotChecked("unknown: the company has no customer whose name has letters")
    name = str(target["DisplayName"])
    exact, swapped = (wire.query(f"SELECT * FROM Customer WHERE DisplayName = '{escape_query_value(v)}' "
                                 "AND Active IN (true, false)") for v in (name, name.swapcase()))
    found_exact = [r.get("Id") for r in _rows(exact, "the exact name")]
    found_swapped = [r.get("Id") for r in _rows(swapped, "the swapped name")]
    label = f"customer {target.get('Id')} ({ctx.name(name)})"
    evidence = [
        {"request": "GET /v3/company/{realm}/query?query=SELECT * FROM Customer WHERE DisplayName = '<its name>' ...",
         "status": exact.status, "response": {"Ids": found_exact}},
        {"request": "GET /v3/company/{realm}/query?query=SELECT * FROM Customer WHERE DisplayName = "
                    "'<its name, case swapped>' ...", "status": swapped.status, "response": {"Ids": found_swapped}},
    ]
    if target.get("Id") not in found_exact:
        return Observation(f"cannot tell: even the exact name of {label} found nothing", Verdict.UNKNOWN, evidence)
    if target.get("Id") in found_swapped:
        return Observation(f"ignores case: the swapped name finds {label}", Verdict.DIFFERS, evidence)
    return Observation(f"exact: the swapped name finds nothing, the exact one finds {label}", Verdict.AGREES, evidence)


# ------------------------------------------------------------------------------------- Q2 default order


def default_order(ctx: Context) -> Observation:
    _, wire = ctx.quickbooks()
    ex = wire.query("SELECT * FROM Customer MAXRESULTS 100")
    rows = _rows(ex, "customers")
    if len(rows) < 3:
        raise NotChecked(f"unknown: {len(rows)} active customers are too few to see an order")
    ids = [_id(r) for r in rows]
    names = [str(r.get("DisplayName") or "") for r in rows]
    orders = {
        "by Id": ids == sorted(ids),
        "by DisplayName ignoring case": _sorted([(n.casefold(), i) for n, i in zip(names, ids, strict=True)]),
        "by DisplayName ignoring case and punctuation": _sorted(
            [("".join(ch for ch in n.casefold() if ch.isalnum()), i) for n, i in zip(names, ids, strict=True)]),
        "by DisplayName, case-sensitive": _sorted(list(zip(names, ids, strict=True))),
    }
    fits = [k for k, ok in orders.items() if ok]
    evidence = [ex.evidence({"rows": len(rows), "first rows (Id: name)": _brief(ctx, rows)})]
    by_name = [k for k in fits if k.startswith("by DisplayName")]
    if "by Id" in fits and by_name:
        return Observation(f"cannot tell: the {len(rows)} customers' Id order is also their name order",
                           Verdict.UNKNOWN, evidence)
    if by_name:
        return Observation(f"{by_name[0]}, not by Id ({len(rows)} customers)", Verdict.AGREES, evidence)
    if fits:
        return Observation(f"{fits[0]} ({len(rows)} customers)", Verdict.DIFFERS, evidence)
    return Observation(f"neither by Id nor by DisplayName ({len(rows)} customers)", Verdict.DIFFERS, evidence)


def _id(row: dict[str, Any]) -> int:
    try:
        return int(str(row.get("Id")))
    except ValueError:
        return 0


def _sorted(keys: list[Any]) -> bool:
    return keys == sorted(keys)


# ---------------------------------------------------------------------------------------- CustomerRef IN


def customerref_in(ctx: Context) -> Observation:
    """``CustomerRef IN ('a', 'b')`` against one ``CustomerRef = `` query per customer."""
    _, wire = ctx.quickbooks()
    invoices = _rows(wire.query("SELECT * FROM Invoice ORDERBY Id MAXRESULTS 100"), "invoices")
    counts = Counter(str((r.get("CustomerRef") or {}).get("value")) for r in invoices if r.get("CustomerRef"))
    chosen = [c for c, _ in counts.most_common(2)]
    if len(chosen) < 2:
        more = _rows(wire.query("SELECT * FROM Customer ORDERBY Id MAXRESULTS 10"), "customers")
        chosen += [str(r.get("Id")) for r in more if str(r.get("Id")) not in chosen][: 2 - len(chosen)]
    if len(chosen) < 2:
        raise NotChecked("unknown: the company has fewer than two customers")
    base = "SELECT * FROM Invoice WHERE CustomerRef {} ORDERBY Id MAXRESULTS 1000"
    each = [wire.query(base.format(f"= {_literal(c)}")) for c in chosen]
    both = wire.query(base.format(f"IN ({', '.join(_literal(c) for c in chosen)})"))
    expected = {str(r.get("Id")) for ex in each for r in _rows(ex, "one customer's invoices")}
    evidence = [ex.evidence({"Ids": sorted(str(r.get("Id")) for r in query_rows(ex))}) for ex in (*each, both)]
    fault = fault_of(both)
    if both.status != 200 or fault:
        evidence[-1] = both.evidence()
        return Observation(f"refused: HTTP {both.status}, code {fault and fault['code']} ({fault and fault['detail']})",
                           Verdict.DIFFERS, evidence)
    got = {str(r.get("Id")) for r in query_rows(both)}
    if got == expected:
        return Observation(f"works: {len(got)} invoices, the same as the two `=` queries (customers {', '.join(chosen)})",
                           Verdict.AGREES, evidence)
    return Observation(f"answers {len(got)} invoices where the two `=` queries answer {len(expected)}",
                       Verdict.DIFFERS, evidence)


def _literal(value: str) -> str:
    return "'" + escape_query_value(value) + "'"


# ---------------------------------------------------------------------------------------- MAXRESULTS


def maxresults(ctx: Context) -> Observation:
    _, wire = ctx.quickbooks()
    ex = wire.query("SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1001")
    fault = fault_of(ex)
    if fault or ex.status != 200:
        evidence = [ex.evidence()]
        said = f"refused: HTTP {ex.status}, code {fault and fault['code']} ({fault and fault['detail']})"
        ok = ex.status == 400 and fault is not None and fault["code"] == "4001"
        return Observation(said, Verdict.AGREES if ok else Verdict.DIFFERS, evidence)
    rows = query_rows(ex)
    data = ex.json() if isinstance(ex.json(), dict) else {}
    count = ex.evidence({"rows": len(rows), "maxResults": (data.get("QueryResponse") or {}).get("maxResults")})
    if len(rows) > 1000:
        said = f"accepted: {len(rows)} rows in one page"
    elif len(rows) == 1000:
        said = "accepted, capped at 1000 rows"
    else:
        said = f"accepted ({len(rows)} rows: the company has too few customers to see a cap)"
    return Observation(said, Verdict.DIFFERS, [count])


# ------------------------------------------------------------------------------------ Q1 6240 and names


def _create_customer(ctx: Context, client: QuickBooksClient, name: str, label: str) -> dict[str, Any]:
    """Create a probe customer and make it inactive at the end of the run."""
    created = client.create("Customer", {"DisplayName": name}, ctx.request_id(label))
    ctx.on_cleanup(f"QuickBooks customer {created.get('Id')} ({name})", lambda: _deactivate(ctx, client, created, label))
    return created


def _deactivate(ctx: Context, client: QuickBooksClient, created: dict[str, Any], label: str) -> None:
    current = client.get("Customer", str(created["Id"]))
    client.deactivate("Customer", str(created["Id"]), str(current["SyncToken"]), ctx.request_id(f"{label}-off"))


def _try_create(ctx: Context, client: QuickBooksClient, name: str, label: str) -> tuple[dict[str, Any] | None,
                                                                                       ApiError | None]:
    try:
        return _create_customer(ctx, client, name, label), None
    except ApiError as err:
        return None, err


def _write_evidence(name: str, created: dict[str, Any] | None, err: ApiError | None) -> dict[str, Any]:
    if err is not None:
        return {"request": CUSTOMER_PATH, "DisplayName": repr(name), "status": err.status,
                "response": {"code": err.code, "message": err.message, "detail": err.detail}}
    return {"request": CUSTOMER_PATH, "DisplayName": repr(name), "status": 200,
            "response": {"Id": (created or {}).get("Id"), "DisplayName": (created or {}).get("DisplayName")}}


def duplicate_detail(ctx: Context) -> Observation:
    """Create a customer, then the same name again: the second answer is a 6240; does its Detail name the Id?"""
    client, _ = ctx.quickbooks()
    ctx.require_write()
    name = ctx.probe_name("dup")
    first = _create_customer(ctx, client, name, "dup1")
    second, err = _try_create(ctx, client, name, "dup2")
    evidence = [_write_evidence(name, first, None), _write_evidence(name, second, err)]
    if err is None:
        return Observation("no 6240: the same DisplayName was created twice", Verdict.DIFFERS, evidence)
    if not isinstance(err, DuplicateNameError):
        return Observation(f"not a 6240: {err.code} {err.detail or err.message}", Verdict.DIFFERS, evidence)
    if err.existing_id is not None:
        whose = "the first customer's" if err.existing_id == str(first.get("Id")) else "another record's"
        return Observation(f"6240 whose Detail carries {whose} Id ({err.detail})", Verdict.DIFFERS, evidence)
    return Observation(f"6240 without an Id: {err.detail}", Verdict.AGREES, evidence)


def name_rule(ctx: Context) -> Observation:
    """Create a customer, then its name in capitals, then with its spaces doubled: both should collide."""
    client, _ = ctx.quickbooks()
    ctx.require_write()
    name = ctx.probe_name("Case Rule")
    first = _create_customer(ctx, client, name, "case1")
    variants = [("in capitals", name.upper(), "case2"), ("with doubled spaces", " " + name.replace(" ", "  ") + " ",
                                                         "case3")]
    evidence = [_write_evidence(name, first, None)]
    collided, created = [], []
    for label, variant, rid in variants:
        obj, err = _try_create(ctx, client, variant, rid)
        evidence.append(_write_evidence(variant, obj, err))
        if isinstance(err, DuplicateNameError):
            collided.append(label)
        elif err is None:
            created.append(label)
        else:
            raise NotChecked(f"unknown: the name {label} got {err.code} ({err.detail or err.message}), not a 6240")
    if not created:
        return Observation("ignores case and repeated whitespace: both variants got 6240", Verdict.AGREES, evidence)
    said = f"created the name {' and '.join(created)}" + (f"; 6240 {' and '.join(collided)}" if collided else "")
    return Observation(said, Verdict.DIFFERS, evidence)


# ------------------------------------------------------------------------------------------- Q8 void


def void_note(ctx: Context) -> Observation:
    """Create an invoice with a note, void it, read it back."""
    client, wire = ctx.quickbooks()
    ctx.require_write()
    item = _any_item(wire)
    customer = _create_customer(ctx, client, ctx.probe_name("void"), "void-c")
    note = f"stqbo conformance note {ctx.token}"
    invoice = client.create("Invoice", {
        "CustomerRef": {"value": str(customer["Id"])}, "PrivateNote": note,
        "Line": [{"Amount": 1.0, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": str(item["Id"])}, "Qty": 1, "UnitPrice": 1}}],
    }, ctx.request_id("void-i"))
    ctx.on_cleanup(f"QuickBooks invoice {invoice.get('Id')}", lambda: _delete_invoice(ctx, client, invoice))
    voided = client.void_invoice(str(invoice["Id"]), str(invoice["SyncToken"]), ctx.request_id("void-v"))
    after = client.get("Invoice", str(invoice["Id"]))
    kept = after.get("PrivateNote")
    evidence = [
        {"request": "POST /v3/company/{realm}/invoice", "status": 200,
         "response": {"Id": invoice.get("Id"), "PrivateNote": invoice.get("PrivateNote")}},
        {"request": "POST /v3/company/{realm}/invoice?operation=void", "status": 200,
         "response": {"PrivateNote": voided.get("PrivateNote"), "TotalAmt": voided.get("TotalAmt")}},
        {"request": f"GET /v3/company/{{realm}}/invoice/{invoice.get('Id')}", "status": 200,
         "response": {"PrivateNote": kept, "TotalAmt": after.get("TotalAmt"), "Balance": after.get("Balance")}},
    ]
    return Observation(_note_change(note, kept), Verdict.AGREES if kept == "Voided" else Verdict.DIFFERS, evidence)


def _note_change(note: str, kept: Any) -> str:
    text = str(kept or "")
    if text == "Voided":
        return "replaced by \"Voided\""
    if text == note:
        return "left as it was"
    if "Voided" in text and note in text:
        where = "before" if text.index("Voided") < text.index(note) else "after"
        return f"kept, with \"Voided\" added {where} it: {text!r}"
    return f"became {text!r}"


def _any_item(wire: QuickBooksWire) -> dict[str, Any]:
    for kind in ("Service", "NonInventory"):
        rows = _rows(wire.query(f"SELECT * FROM Item WHERE Type = '{kind}' MAXRESULTS 1"), "an item")
        if rows:
            return rows[0]
    raise NotChecked("unknown: the company has no Service or NonInventory item to put on an invoice")


def _delete_invoice(ctx: Context, client: QuickBooksClient, invoice: dict[str, Any]) -> None:
    current = client.get("Invoice", str(invoice["Id"]))
    client.delete_invoice(str(invoice["Id"]), str(current["SyncToken"]), ctx.request_id("void-d"))


# ------------------------------------------------------------------------------------------- Q3 429


def throttle(ctx: Context) -> Observation:
    """Fire ``BURST`` reads at once (bypassing the client's limiter), at most ``BURST_ROUNDS`` times, and look at
    the first throttled answer. Opt-in (``--write``): it is meant to be refused."""
    _, wire = ctx.quickbooks()
    ctx.require_write()
    statuses: Counter[int] = Counter()
    for _ in range(BURST_ROUNDS):
        answers = _burst(lambda: wire.query("SELECT COUNT(*) FROM Customer", unlimited=True, retry_throttle=False))
        statuses.update(ex.status for ex in answers)
        throttled = next((ex for ex in answers if _throttled(ex)), None)
        if throttled is not None:
            time.sleep(2.0)  # let the realm's window drain before anything else calls it
            return _judge_throttle(throttled, statuses)
        time.sleep(0.5)
    summary = {"statuses": {str(k): v for k, v in statuses.items()}}
    raise NotChecked(f"unknown: no request was throttled in {sum(statuses.values())} fired in bursts of {BURST} "
                     f"({summary})")


def _throttled(ex: Exchange) -> bool:
    """A 429, or a throttle fault whatever its status (older gateways said 403)."""
    fault = fault_of(ex) or {}
    return ex.status == 429 or fault.get("code") == "3001" or "ThrottleExceeded" in (fault.get("message") or "")


def _burst(call: Callable[[], Exchange]) -> list[Exchange]:
    gate = threading.Barrier(BURST)
    answers: list[Exchange] = []
    lock = threading.Lock()

    def one() -> None:
        gate.wait()
        ex = call()
        with lock:
            answers.append(ex)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def _judge_throttle(ex: Exchange, statuses: Counter[int]) -> Observation:
    fault = fault_of(ex)
    retry_after = ex.header("Retry-After")
    code = (fault or {}).get("code") or ""
    message = (fault or {}).get("message") or ""
    differences = []
    if ex.status != 429:
        differences.append(f"HTTP {ex.status}")
    if fault is None:
        differences.append("a body that is not the JSON fault" + (" (XML)" if ex.text.lstrip().startswith("<") else ""))
    elif code != "3001" and "003001" not in message:
        differences.append(f"code {code or '?'}")
    if retry_after is not None:
        differences.append(f"Retry-After: {retry_after}")
    evidence = [ex.evidence(headers=True), {"burst statuses": {str(k): v for k, v in statuses.items()}}]
    said = (f"HTTP {ex.status}, {'JSON fault code ' + code if fault else 'no JSON fault'}, "
            f"{'Retry-After ' + retry_after if retry_after is not None else 'no Retry-After'}")
    if differences:
        return Observation(f"{said} (the simulator differs in: {', '.join(differences)})", Verdict.DIFFERS, evidence)
    return Observation(said, Verdict.AGREES, evidence)
