"""Probes of the Synchroteam account: its clock (S1), its name look-up (S2), its invoice statuses (S4).

Read-only unless the run may write: then one customer named ``stqbo conformance <token> customer`` is created
(its fresh ``dateModified`` is the only record whose true modification instant is known) and deleted at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from stqbo_api.synchroteam import SynchroteamClient, local_filter
from stqbo_conformance.context import MAX_PAGES, Context, NotChecked, is_probe_name
from stqbo_conformance.facts import Observation, Verdict
from stqbo_conformance.wire import Exchange, SynchroteamWire

TOLERANCE = timedelta(minutes=10)      # clock skew plus minute precision, as the client's own zone check
KNOWN_STATUSES = ("draft", "new", "sent", "paid", "late")
FILTER_FORMAT = "%Y-%m-%d %H:%M:%S"
MINUTE = timedelta(minutes=1)


def wall(stamp: str) -> datetime:
    """A Synchroteam date-time as the naive wall-clock time it shows (``T`` and seconds optional)."""
    return datetime.fromisoformat(stamp.strip().replace("T", " ")[:19])


def _offset(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _ago(instant: datetime, now: datetime) -> str:
    minutes = round((now - instant).total_seconds() / 60)
    size = abs(minutes)
    if size < 120:
        span = f"{size} min"
    elif size < 72 * 60:
        span = f"{size // 60} h {size % 60:02d} min"
    else:
        span = f"{size // 1440} days"
    return f"{span} ago" if minutes >= 0 else f"{span} in the future"


# ------------------------------------------------------------------------------------------ shared reads


def written_customer(ctx: Context) -> dict[str, Any]:
    """The customer this run wrote (once), with the UTC instants that bracket the write; deleted at the end."""
    if "st_written" not in ctx.cache:
        st, _ = ctx.synchroteam()
        body = {"myId": f"stqbo-conformance-{ctx.token}", "name": ctx.probe_name("customer"),
                "address": "1 Conformance Street, Testville"}
        started = datetime.now(UTC)
        record = st.send_customer(body)
        finished = datetime.now(UTC)
        if not record.get("dateModified") or record.get("id") is None:   # the answer's shape is UNCONFIRMED
            record = {**record, **(st.get_customer(my_id=body["myId"]) or {})}
        if record.get("id") is not None:
            ctx.on_cleanup(f"Synchroteam customer {record['id']} ({body['name']})",
                           lambda: st.delete_customer(id=record["id"]))
        evidence = {"request": "POST /api/v3/customer/send", "status": 200,
                    "response": {k: record.get(k) for k in ("id", "name", "dateModified")},
                    "note": f"sent between {started:%Y-%m-%d %H:%M:%S} and {finished:%H:%M:%S} UTC"}
        ctx.cache["st_written"] = {"record": record, "started": started, "finished": finished, "evidence": evidence}
    return dict(ctx.cache["st_written"])


def newest_customer(ctx: Context, wire: SynchroteamWire, st: SynchroteamClient) -> tuple[dict[str, Any], Exchange]:
    """The active customer modified last (looked for in the last 3 days, then 90, then in every customer)."""
    now = datetime.now(UTC)
    for days in (3, 90, None):
        since = local_filter(now - timedelta(days=days), st.zone) if days else None
        rows, exchanges, _ = wire.pages("customer/list", {"changedSince": since, "active": "true"}, MAX_PAGES)
        dated = [r for r in rows if isinstance(r.get("dateModified"), str)]
        if dated:
            return max(dated, key=lambda r: wall(r["dateModified"])), exchanges[0]
    raise NotChecked("unknown: the account has no active customer to look at")


def customer_sample(ctx: Context, wire: SynchroteamWire) -> tuple[list[dict[str, Any]], bool]:
    """Active and inactive customers (at most ``MAX_PAGES`` pages of each); True when the sample is complete."""
    if "st_customers" not in ctx.cache:
        rows: list[dict[str, Any]] = []
        complete = True
        for active in ("true", "false"):
            found, _, more = wire.pages("customer/list", {"active": active}, MAX_PAGES // 2)
            rows.extend(found)
            complete = complete and not more
        ctx.cache["st_customers"] = ({r["id"]: r for r in rows if r.get("id") is not None}, complete)
    by_id, complete = ctx.cache["st_customers"]
    return list(by_id.values()), complete


# -------------------------------------------------------------------------------------- S1 dateModified


def date_modified(ctx: Context) -> Observation:
    st, wire = ctx.synchroteam()
    if ctx.write:
        return _fresh_stamp(st, written_customer(ctx))
    record, exchange = newest_customer(ctx, wire, st)
    return _newest_stamp(ctx, st, record, exchange)


def _fresh_stamp(st: SynchroteamClient, written: dict[str, Any]) -> Observation:
    """A record written just now: its dateModified, read in the configured zone, must fall within the write."""
    stamp = str(written["record"].get("dateModified") or "")
    if not stamp:
        raise NotChecked("unknown: the customer written just now came back without a dateModified")
    started, finished = written["started"], written["finished"]
    middle = started + (finished - started) / 2
    shown = wall(stamp)
    observed = timedelta(minutes=15 * round((shown - middle.replace(tzinfo=None)).total_seconds() / 900))
    configured = middle.astimezone(st.zone).utcoffset() or timedelta(0)
    evidence = [written["evidence"]]
    said = (f"a customer written at {middle:%H:%M} UTC shows dateModified {stamp}, that is {_offset(observed)}; "
            f"{st.timezone} is {_offset(configured)} then")
    fits = started - TOLERANCE <= st.to_utc(stamp) <= finished + TOLERANCE
    if fits and configured == timedelta(0):
        return Observation(f"{said}: in a zone at UTC+00:00 local time and UTC look the same", Verdict.UNKNOWN,
                           evidence)
    if fits:
        return Observation(f"local time: {said}", Verdict.AGREES, evidence)
    if observed == timedelta(0):
        return Observation(f"UTC, not local time: {said}", Verdict.DIFFERS, evidence)
    return Observation(f"local time, but not the connection's zone: {said}; set the connection's timezone to the "
                       "account's zone (Synchroteam shows it in its settings) and run again", Verdict.UNKNOWN, evidence)


def _newest_stamp(ctx: Context, st: SynchroteamClient, record: dict[str, Any], exchange: Exchange) -> Observation:
    """Read-only: a stamp can only contradict a reading by landing in the future under it."""
    stamp = str(record["dateModified"])
    now = datetime.now(UTC)
    local, as_utc = st.to_utc(stamp), wall(stamp).replace(tzinfo=UTC)
    evidence = [exchange.evidence({"id": record.get("id"), "name": ctx.name(record.get("name")),
                                   "dateModified": stamp}, note=f"read at {now:%Y-%m-%d %H:%M} UTC")]
    readings = f"the newest dateModified, {stamp}, is {_ago(local, now)} in {st.timezone} and {_ago(as_utc, now)} as UTC"
    if local > now + TOLERANCE:
        return Observation(f"either UTC or not the connection's zone: {readings}; a record written now tells which "
                           "(--write)", Verdict.UNKNOWN, evidence)
    if as_utc > now + TOLERANCE:
        return Observation(f"local time (not UTC): {readings}", Verdict.AGREES, evidence)
    return Observation(f"cannot tell read-only: {readings}; a record written now tells them apart (--write)",
                       Verdict.UNKNOWN, evidence)


# ------------------------------------------------------------------------------------- S1 changedSince


def changed_since(ctx: Context) -> Observation:
    """Bracket a record with filters on the clock its dateModified shows: found from the minute before and from
    its own minute, not from the minute after. If not, try the same bracket on the UTC clock."""
    st, wire = ctx.synchroteam()
    if ctx.write:
        record, whose = written_customer(ctx)["record"], "the customer written just now"
    else:
        record, whose = newest_customer(ctx, wire, st)[0], "the newest customer"
    stamp = str(record.get("dateModified") or "")
    if not stamp or record.get("id") is None:
        raise NotChecked("unknown: no customer with a dateModified to filter on")
    finds = _finder(wire, record["id"])
    shown = wall(stamp)
    before, at, after = (finds(shown + d) for d in (-MINUTE, timedelta(0), MINUTE))
    evidence = [before[1], at[1], after[1]]
    said = f"{whose} (dateModified {stamp}) with changedSince {_found_from(before[0], at[0], after[0])}"
    if before[0] and at[0] and not after[0]:
        return Observation(f"same local clock, inclusive: {said}", Verdict.AGREES, evidence)
    if before[0] and not at[0] and not after[0]:
        return Observation(f"same local clock, but not inclusive at the shown minute: {said}", Verdict.DIFFERS,
                           evidence)
    utc = st.to_utc(stamp).replace(tzinfo=None)
    u_before, u_after = finds(utc - MINUTE), finds(utc + MINUTE)
    evidence += [u_before[1], u_after[1]]
    if u_before[0] and not u_after[0]:
        return Observation(f"UTC, not the local clock of dateModified: {said}; on the UTC clock "
                           f"({utc:%Y-%m-%d %H:%M}) it is bracketed", Verdict.DIFFERS, evidence)
    return Observation(f"neither the local clock nor UTC: {said}", Verdict.DIFFERS, evidence)


def _found_from(before: bool, at: bool, after: bool) -> str:
    return ", ".join(f"{label}: {'listed' if hit else 'not listed'}" for label, hit in
                     (("a minute before", before), ("its minute", at), ("a minute after", after)))


def _finder(wire: SynchroteamWire, record_id: Any) -> Callable[[datetime], tuple[bool, dict[str, Any]]]:
    def finds(since: datetime) -> tuple[bool, dict[str, Any]]:
        value = since.strftime(FILTER_FORMAT)
        rows, exchanges, _ = wire.pages("customer/list", {"changedSince": value, "active": "true"}, 10)
        hit = any(r.get("id") == record_id for r in rows)
        return hit, exchanges[0].evidence({"rows": len(rows), f"customer {record_id} listed": hit})
    return finds


# ------------------------------------------------------------------------------------ S2 details?name=

HYPOTHESES: dict[str, Callable[[str, str], bool]] = {
    "exact, case-sensitive": lambda v, n: n == v,
    "exact, ignoring case": lambda v, n: n.casefold() == v.casefold(),
    "prefix, case-sensitive": lambda v, n: n.startswith(v),
    "prefix, ignoring case": lambda v, n: n.casefold().startswith(v.casefold()),
    "contains, ignoring case": lambda v, n: v.casefold() in n.casefold(),
}
ASSUMED = "prefix, ignoring case"


def details_name(ctx: Context) -> Observation:
    """Look up a customer's name, its case swapped, a prefix and a middle part of it, and keep the matching rules
    every answer fits."""
    _, wire = ctx.synchroteam()
    sample, complete = customer_sample(ctx, wire)
    target = _lookup_target(sample)
    lookups = _lookup_values(str(target["name"]), [str(c.get("name") or "") for c in sample])
    rules = dict(HYPOTHESES)
    evidence: list[dict[str, Any]] = []
    ranked: list[bool] = []
    for label, value in lookups:
        ex = wire.get("customer/details", {"name": value})
        found = ex.json() if ex.status == 200 and isinstance(ex.json(), dict) else None
        if ex.status not in (200, 404):
            raise NotChecked(f"unknown: customer/details answered HTTP {ex.status}")
        name = str(found.get("name") or "") if found else None
        shown = value if ctx.show_names else f"<{label}>"
        evidence.append({"request": f"GET /api/v3/customer/details?name={shown}", "lookup": label, "status": ex.status,
                         "response": {"id": found.get("id"), "name": ctx.name(name)} if found else "no customer"})
        rules = {k: f for k, f in rules.items() if _fits(f, value, found, sample)}
        lowest = _lowest(value, found, sample) if found else None
        if lowest is not None:
            ranked.append(lowest)
    first_ok = all(ranked) if ranked else None
    return _details_verdict(ctx, target, rules, first_ok, complete, evidence)


def _lookup_target(sample: list[dict[str, Any]]) -> dict[str, Any]:
    """A customer whose name has letters (so its case can be swapped) and some length; first one whose name starts
    another customer's name (the "Smith" / "Smith Plumbing" case), then one whose name others share (so the answer
    is one of several and its rank shows)."""
    names = [str(c.get("name") or "").casefold() for c in sample]
    usable = [c for c in sorted(sample, key=lambda c: c["id"])
              if len(str(c.get("name") or "").strip()) >= 5 and str(c["name"]).swapcase() != str(c["name"])
              and not is_probe_name(str(c["name"]))]
    if not usable:
        raise NotChecked("unknown: the account has no customer with a name of five letters or more")

    def starts_another(c: dict[str, Any]) -> bool:
        key = str(c["name"]).casefold()
        return any(n.startswith(key) and n != key for n in names)

    def shared(c: dict[str, Any]) -> bool:
        return names.count(str(c["name"]).casefold()) > 1

    for wanted in (starts_another, shared):
        found = next((c for c in usable if wanted(c)), None)
        if found is not None:
            return found
    return usable[0]


def _lookup_values(name: str, names: list[str]) -> list[tuple[str, str]]:
    """(label, value): the whole name, its case swapped, a prefix that is nobody's whole name, a middle part
    that starts nobody's name."""
    values = [("a customer's whole name", name), ("that name with its case swapped", name.swapcase())]
    folded = {n.casefold() for n in names}
    size = max(3, len(name) // 2)
    while size < len(name) and (name[:size].casefold() in folded or not name[:size].strip()):
        size += 1
    if size < len(name):
        values.append((f"its first {size} characters", name[:size]))
    middle = name[1:1 + max(3, len(name) // 2)]
    if middle.strip() and not any(n.casefold().startswith(middle.casefold()) for n in names):
        values.append((f"{len(middle)} characters from inside it", middle))
    return values


def _fits(rule: Callable[[str, str], bool], value: str, found: dict[str, Any] | None,
          sample: list[dict[str, Any]]) -> bool:
    if found is None:
        return not any(rule(value, str(c.get("name") or "")) for c in sample)
    return rule(value, str(found.get("name") or ""))


def _lowest(value: str, found: dict[str, Any], sample: list[dict[str, Any]]) -> bool | None:
    """Whether the answer is the lowest id among the sample's matches (None when there is only one)."""
    rule = HYPOTHESES[ASSUMED]
    ids = sorted(c["id"] for c in sample if rule(value, str(c.get("name") or "")))
    return None if len(ids) < 2 else found.get("id") == ids[0]


def _details_verdict(ctx: Context, target: dict[str, Any], rules: dict[str, Any], first_ok: bool | None,
                     complete: bool, evidence: list[dict[str, Any]]) -> Observation:
    about = f"looked up from customer {target['id']} ({ctx.name(target['name'])})"
    if not rules:
        return Observation(f"no simple rule fits the answers ({about})", Verdict.DIFFERS, evidence)
    if ASSUMED not in rules:
        return Observation(f"{' or '.join(rules)} ({about})", Verdict.DIFFERS, evidence)
    if len(rules) > 1:
        return Observation(f"cannot tell {' from '.join(rules)} ({about})", Verdict.UNKNOWN, evidence)
    if first_ok is False and complete:
        return Observation(f"a prefix look-up ignoring case, but not the lowest id of the matches ({about})",
                           Verdict.DIFFERS, evidence)
    first = {True: "the lowest id of several matches", None: "no several matches to rank",
             False: "not the lowest id of the sampled matches (the sample is partial)"}[first_ok]
    return Observation(f"prefix, ignoring case; {first} ({about})", Verdict.AGREES, evidence)


# -------------------------------------------------------------------------------------- S4 statuses


def invoice_statuses(ctx: Context) -> Observation:
    """The distinct statuses of the newest invoices (invoice/list answers newest first)."""
    _, wire = ctx.synchroteam()
    rows, exchanges, more = wire.pages("invoice/list", {}, MAX_PAGES)
    if exchanges and exchanges[0].status != 200:
        raise NotChecked(f"unknown: invoice/list answered HTTP {exchanges[0].status}")
    if not rows:
        raise NotChecked("unknown: the account has no invoice")
    counts = Counter(r.get("status") for r in rows)
    shown = {str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}
    scope = f"{'the newest ' if more else ''}{len(rows)} invoices"
    evidence = [exchanges[0].evidence({"statuses": shown, "invoices read": len(rows), "pages": len(exchanges),
                                       "more left": more})]
    odd = [k for k in counts if not isinstance(k, str) or not k]
    if odd:
        return Observation(f"statuses that are not text in {scope}: {odd}", Verdict.DIFFERS, evidence)
    new = sorted(str(k) for k in counts if k not in KNOWN_STATUSES)
    listing = ", ".join(f"{k} ({v})" for k, v in shown.items())
    extra = f"; beyond the known five: {', '.join(new)}" if new else ""
    return Observation(f"{listing} in {scope}{extra}", Verdict.AGREES, evidence)
