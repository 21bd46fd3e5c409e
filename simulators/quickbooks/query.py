"""The QuickBooks query language: parser, planner (index look-ups, cached sorted results) and executor.

Grammar: SELECT * [, p ...] | COUNT(*) FROM Entity [WHERE p op v [AND ...]] [ORDERBY p [ASC|DESC], ...]
[STARTPOSITION n] [MAXRESULTS m] (either order). Keywords and names are case-insensitive; values are compared
exactly (case-sensitively). Without ORDERBY, name-list entities come by name. Real entities the simulator
does not model answer an empty result. Full-scan results are cached per realm version, so paging through 100,000
customers costs one scan and then O(page) per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulators.quickbooks.core import QboFault, parse_error, parse_qbo_datetime, query_invalid
from simulators.quickbooks.store import Realm, name_key

TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
KEYWORDS = {"select", "from", "where", "and", "orderby", "order", "by", "asc", "desc", "startposition",
            "maxresults", "in", "like", "count"}

Getter = Callable[[dict[str, Any], tuple[float, float]], Any]


def _plain(name: str) -> Getter:
    def get(obj: dict[str, Any], _t: tuple[float, float]) -> Any:
        return obj.get(name)

    get.field = name  # type: ignore[attr-defined]  # lets predicates read the dict directly
    return get


def _nested(name: str, sub: str) -> Getter:
    return lambda obj, _t: (obj.get(name) or {}).get(sub)


def _time(index: int) -> Getter:
    return lambda _obj, times: times[index]


NAME_PERSON = {"displayname": "DisplayName", "givenname": "GivenName", "middlename": "MiddleName",
               "familyname": "FamilyName", "companyname": "CompanyName", "fullyqualifiedname": "FullyQualifiedName"}


def _spec() -> dict[str, dict[str, tuple[str, str, Getter]]]:
    """Per entity: lower-case property -> (canonical name, kind, getter)."""
    common = {
        "id": ("Id", "id", _plain("Id")),
        "metadata.createtime": ("MetaData.CreateTime", "datetime", _time(0)),
        "metadata.lastupdatedtime": ("MetaData.LastUpdatedTime", "datetime", _time(1)),
    }

    def strs(mapping: dict[str, str]) -> dict[str, tuple[str, str, Getter]]:
        return {k: (v, "str", _plain(v)) for k, v in mapping.items()}

    active = {"active": ("Active", "bool", _plain("Active"))}
    email = {"primaryemailaddr": ("PrimaryEmailAddr", "str", _nested("PrimaryEmailAddr", "Address"))}
    spec = {
        "Customer": {**common, **strs(NAME_PERSON), **active, **email,
                     "balance": ("Balance", "num", _plain("Balance")), "job": ("Job", "bool", _plain("Job")),
                     "parentref": ("ParentRef", "ref", _nested("ParentRef", "value"))},
        "Vendor": {**common, **strs({k: v for k, v in NAME_PERSON.items() if k != "fullyqualifiedname"}), **active,
                   **email, "balance": ("Balance", "num", _plain("Balance"))},
        "Employee": {**common, **strs({k: NAME_PERSON[k] for k in ("displayname", "givenname", "middlename",
                                                                   "familyname")}), **active, **email},
        "Item": {**common, **strs({"name": "Name", "fullyqualifiedname": "FullyQualifiedName", "sku": "Sku",
                                   "type": "Type"}), **active,
                 "unitprice": ("UnitPrice", "num", _plain("UnitPrice")),
                 "taxable": ("Taxable", "bool", _plain("Taxable"))},
        "Account": {**common, **strs({"name": "Name", "fullyqualifiedname": "FullyQualifiedName",
                                      "accounttype": "AccountType", "accountsubtype": "AccountSubType",
                                      "classification": "Classification"}), **active,
                    "currentbalance": ("CurrentBalance", "num", _plain("CurrentBalance"))},
        "TaxCode": {**common, "id": ("Id", "str", _plain("Id")), **strs({"name": "Name"}), **active,
                    "taxable": ("Taxable", "bool", _plain("Taxable"))},
        "TaxRate": {**common, **strs({"name": "Name"}), **active,
                    "ratevalue": ("RateValue", "num", _plain("RateValue"))},
        "Invoice": {**common, "docnumber": ("DocNumber", "str", _plain("DocNumber")),
                    "customerref": ("CustomerRef", "ref", _nested("CustomerRef", "value")),
                    "txndate": ("TxnDate", "date", _plain("TxnDate")), "duedate": ("DueDate", "date", _plain("DueDate")),
                    "totalamt": ("TotalAmt", "num", _plain("TotalAmt")), "balance": ("Balance", "num", _plain("Balance"))},
        "CompanyInfo": {},
        "Preferences": {},
    }
    return spec


SPEC = _spec()
ENTITY_NAMES = {name.lower(): name for name in SPEC}

# Real QuickBooks entities the simulator does not model: a query or CDC names them and gets an empty answer,
# as a company without any would give (facts Q6). From Intuit's API reference entity list and the streams of
# singer tap-quickbooks 2.5.0.
UNMODELLED = (
    "Attachable", "Bill", "BillPayment", "Budget", "Class", "CompanyCurrency", "CreditCardPayment", "CreditMemo",
    "CustomerType", "Department", "Deposit", "Estimate", "ExchangeRate", "JournalCode", "JournalEntry", "Payment",
    "PaymentMethod", "Purchase", "PurchaseOrder", "RecurringTransaction", "RefundReceipt", "ReimburseCharge",
    "SalesReceipt", "TaxAgency", "TaxClassification", "TaxPayment", "Term", "TimeActivity", "Transfer",
    "VendorCredit",
)
UNMODELLED_NAMES = {name.lower(): name for name in UNMODELLED}
# Without ORDERBY QuickBooks answers name-list entities by name (facts Q2); the rest stay in Id order.
NAME_ORDER = {"Customer": "DisplayName", "Vendor": "DisplayName", "Employee": "DisplayName", "Item": "Name",
              "Account": "Name", "TaxCode": "Name", "TaxRate": "Name"}


@dataclass
class Cond:
    prop: str
    op: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    conds: list[Cond] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    start: int = 1
    max: int = 100
    modelled: bool = True
    extra: list[str] = field(default_factory=list)


class Parser:
    """A small recursive-descent parser over regex tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            match = TOKEN_RE.match(stripped, pos)
            if not match or match.end() == pos:
                raise parse_error(f"Invalid content. Lexical error at line 1, column {pos + 1}.")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind), match.start(kind) + 1))
            pos = match.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise parse_error("Encountered \"<EOF>\" at line 1. Was expecting more input.")
        self.i += 1
        return token

    def fail(self, token: tuple[str, str, int] | None, expected: str) -> QboFault:
        if token is None:
            return parse_error(f"Encountered \"<EOF>\" at line 1. Was expecting: {expected}")
        return parse_error(f"Encountered \"{token[1]}\" at line 1, column {token[2]}. Was expecting: {expected}")

    def word(self, *expected: str) -> str:
        token = self.peek()
        if token is None or token[0] != "word" or token[1].lower() not in expected:
            raise self.fail(token, " | ".join(e.upper() for e in expected))
        self.i += 1
        return token[1].lower()

    def is_word(self, *expected: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in expected

    def symbol(self, sym: str) -> None:
        token = self.peek()
        if token is None or token[0] != "op" or token[1] != sym:
            raise self.fail(token, f'"{sym}"')
        self.i += 1

    def parse(self) -> Query:
        self.word("select")
        count = False
        extra: list[str] = []
        if self.is_word("count"):
            self.i += 1
            self.symbol("(")
            self.symbol("*")
            self.symbol(")")
            count = True
        else:
            self.symbol("*")
            extra = self.extra_fields()
        self.word("from")
        token = self.take()
        if token[0] != "word" or token[1].lower() in KEYWORDS:
            raise self.fail(token, "<IDENTIFIER>")
        entity = ENTITY_NAMES.get(token[1].lower()) or UNMODELLED_NAMES.get(token[1].lower())
        if entity is None:
            raise query_invalid(f"Entity {token[1]} is not supported or not queryable.")
        query = Query(entity=entity, count=count, modelled=entity in SPEC, extra=extra)
        unknown = [p for p in extra if query.modelled and p.lower() not in SPEC[entity]]
        if unknown:
            raise query_invalid(f"property '{unknown[0]}' is not queryable")
        if self.is_word("where"):
            self.i += 1
            query.conds.append(self.cond())
            while self.is_word("and"):
                self.i += 1
                query.conds.append(self.cond())
        self.tail(query)
        if self.peek() is not None:
            raise self.fail(self.peek(), "ORDERBY | STARTPOSITION | MAXRESULTS | <EOF>")
        return query

    def extra_fields(self) -> list[str]:
        """``SELECT *, Sku FROM Item``: properties named after ``*``, as python-quickbooks 0.9.12 sends for
        ``Item.all()`` against the real service (its PR #379). Each must be a property of the entity; the answer
        is the whole stored object either way (the simulator keeps no field back from ``SELECT *``)."""
        names: list[str] = []
        while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
            self.i += 1
            token = self.take()
            if token[0] != "word" or token[1].lower() in KEYWORDS:
                raise self.fail(token, "<IDENTIFIER>")
            names.append(token[1])
        return names

    def tail(self, query: Query) -> None:
        seen: set[str] = set()
        while self.peek() is not None:
            if self.is_word("orderby", "order") and "order" not in seen:
                if self.word("orderby", "order") == "order":
                    self.word("by")
                query.order.append(self.order_item())
                while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                    self.i += 1
                    query.order.append(self.order_item())
                seen.add("order")
            elif self.is_word("startposition") and "start" not in seen:
                self.i += 1
                query.start = self.integer("STARTPOSITION")
                seen.add("start")
            elif self.is_word("maxresults") and "max" not in seen:
                self.i += 1
                query.max = self.integer("MAXRESULTS")
                seen.add("max")
            else:
                return

    def integer(self, what: str) -> int:
        token = self.take()
        if token[0] != "num" or "." in token[1]:
            raise self.fail(token, f"<INTEGER> after {what}")
        return int(token[1])

    def order_item(self) -> tuple[str, bool]:
        token = self.take()
        if token[0] != "word":
            raise self.fail(token, "<IDENTIFIER>")
        desc = False
        if self.is_word("asc", "desc"):
            desc = self.word("asc", "desc") == "desc"
        return token[1], desc

    def cond(self) -> Cond:
        token = self.take()
        if token[0] != "word" or token[1].lower() in KEYWORDS:
            raise self.fail(token, "<IDENTIFIER>")
        nxt = self.take()
        if nxt[0] == "op" and nxt[1] in ("=", "<", ">", "<=", ">="):
            return Cond(token[1], nxt[1], [self.value()])
        if nxt[0] == "word" and nxt[1].lower() == "like":
            return Cond(token[1], "like", [self.value()])
        if nxt[0] == "word" and nxt[1].lower() == "in":
            self.symbol("(")
            values = [self.value()]
            while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                self.i += 1
                values.append(self.value())
            self.symbol(")")
            return Cond(token[1], "in", values)
        raise self.fail(nxt, '"=" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE"')

    def value(self) -> Any:
        token = self.take()
        if token[0] == "str":
            return re.sub(r"\\(.)", r"\1", token[1][1:-1])
        if token[0] == "num":
            return token[1]
        if token[0] == "word" and token[1].lower() in ("true", "false"):
            return token[1].lower()
        raise self.fail(token, "<STRING> | <NUMBER> | true | false")


def parse(text: str) -> Query:
    query = Parser(text).parse()
    if query.start < 1:
        raise query_invalid(f"STARTPOSITION must be at least 1. Supplied value:{query.start}")
    if query.max < 1 or query.max > 1000:
        raise query_invalid(f"MAXRESULTS must be between 1 and 1000. Supplied value:{query.max}")
    return query


def convert(kind: str, raw: Any, prop: str) -> Any:
    try:
        if kind == "id":
            return str(int(str(raw)))
        if kind == "bool":
            if str(raw).lower() not in ("true", "false"):
                raise ValueError(raw)
            return str(raw).lower() == "true"
        if kind == "num":
            return float(raw)
        if kind == "datetime":
            return parse_qbo_datetime(str(raw))
        return str(raw)
    except ValueError as exc:
        raise query_invalid(f"Invalid value {raw!r} for property {prop}.") from exc


def like_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("%")) + "$", re.DOTALL)


def predicate(entity: str, cond: Cond) -> Callable[[dict[str, Any], tuple[float, float]], bool]:
    spec = SPEC[entity].get(cond.prop.lower())
    if spec is None:
        raise query_invalid(f"property '{cond.prop}' is not queryable")
    name, kind, getter = spec
    if kind == "id" and cond.op not in ("=", "in"):
        raise query_invalid(f"Operator {cond.op.upper()} is not supported for property {name}; use = or IN.")
    if cond.op == "like" and kind != "str":
        raise query_invalid(f"Operator LIKE is only supported for text properties, not {name}.")
    values = [convert(kind, v, name) for v in cond.values]
    if kind == "id":
        wanted = set(values)
        return lambda obj, t: obj.get("Id") in wanted
    if cond.op == "in":
        wanted_values = set(values)
        return lambda obj, t: getter(obj, t) in wanted_values
    if cond.op == "like":
        regex = like_regex(values[0])
        return lambda obj, t: isinstance(getter(obj, t), str) and regex.match(getter(obj, t)) is not None
    target = values[0]
    if kind == "str" and cond.op == "=" and target.strip() == "":
        return lambda obj, t: getter(obj, t) in (None, "")
    field_name = getattr(getter, "field", None)
    if cond.op == "=" and field_name is not None:
        return lambda obj, t: obj.get(field_name) == target
    compare = {"=": lambda a: a == target, "<": lambda a: a < target, ">": lambda a: a > target,
               "<=": lambda a: a <= target, ">=": lambda a: a >= target}[cond.op]

    def check(obj: dict[str, Any], times: tuple[float, float]) -> bool:
        actual = getter(obj, times)
        if actual is None:
            return False
        try:
            return bool(compare(actual))
        except TypeError:
            return False

    return check


def rows_of(realm: Realm, entity: str) -> dict[str, dict[str, Any]]:
    if entity == "CompanyInfo":
        return {"1": realm.company_info}
    if entity == "Preferences":
        return {"1": realm.preferences}
    return realm.rows[entity]


def candidates(realm: Realm, entity: str, conds: list[Cond]) -> list[str] | None:
    """Ids from an index when a condition allows it; None means a scan is needed."""
    for cond in conds:
        prop = cond.prop.lower()
        if prop == "id" and cond.op in ("=", "in"):
            return [str(int(v)) if str(v).isdigit() else str(v) for v in cond.values]
        if cond.op == "=" and prop == "displayname" and entity in ("Customer", "Vendor", "Employee"):
            hit = realm.names.get(name_key(str(cond.values[0])))  # the predicate then compares exactly
            return [hit[1]] if hit and hit[0] == entity else []
        if cond.op == "=" and prop == "name" and entity == "Item":
            item_id = realm.item_names.get(name_key(str(cond.values[0])))
            return [item_id] if item_id else []
        if entity == "Invoice" and prop == "customerref" and cond.op in ("=", "in"):
            return sorted({i for v in cond.values for i in realm.by_customer.get(str(v), set())}, key=id_key)
        if entity == "Invoice" and prop == "docnumber" and cond.op == "=":
            return sorted(realm.doc_numbers.get(str(cond.values[0]), set()), key=id_key)
    return None


def id_key(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def base_order(realm: Realm, entity: str, rows: dict[str, dict[str, Any]]) -> Callable[[str], Any]:
    """The order without ORDERBY: by name, ignoring case, then Id (the lenient switch brings back Id order)."""
    field_name = NAME_ORDER.get(entity)
    if field_name is None or realm.lenient.order_by_id:
        return id_key
    return lambda i: (str(rows[i].get(field_name) or "").casefold(), id_key(i))


def matching_ids(realm: Realm, query: Query) -> list[str]:
    """All ids matching the query, sorted; cached until the realm's next write."""
    if not query.modelled:
        return []
    spec = SPEC[query.entity]
    conds = list(query.conds)
    if "active" in spec and not any(c.prop.lower() == "active" for c in conds):
        conds.append(Cond("Active", "=", ["true"]))
    checks = [predicate(query.entity, c) for c in conds]
    for prop, _desc in query.order:
        if prop.lower() not in spec:
            raise query_invalid(f"property '{prop}' is not sortable")
    key = (query.entity, tuple((c.prop.lower(), c.op, tuple(c.values)) for c in conds),
           tuple((p.lower(), d) for p, d in query.order), realm.lenient.order_by_id)
    cached = realm.query_cache.get(key)
    if cached is not None:
        return cached
    rows = rows_of(realm, query.entity)
    times = realm.times.get(query.entity, {})
    ids = candidates(realm, query.entity, conds)
    pool = rows.keys() if ids is None else [i for i in ids if i in rows]
    no_time = (0.0, 0.0)
    result = pool_filter(pool, rows, times, checks)
    result.sort(key=base_order(realm, query.entity, rows))
    for prop, desc in reversed(query.order):
        getter = spec[prop.lower()][2]
        keyed = [(getter(rows[i], times.get(i, no_time)), i) for i in result]
        present = [pair for pair in keyed if pair[0] is not None]
        present.sort(key=lambda pair: pair[0], reverse=desc)
        result = [i for _, i in present] + [i for value, i in keyed if value is None]
    if ids is None:  # index look-ups are cheap; keep the cache for scans
        while len(realm.query_cache) >= 32:
            realm.query_cache.pop(next(iter(realm.query_cache)))
        realm.query_cache[key] = result
    return result


def pool_filter(pool: Any, rows: dict[str, dict[str, Any]], times: dict[str, tuple[float, float]],
                checks: list[Callable[[dict[str, Any], tuple[float, float]], bool]]) -> list[str]:
    no_time = (0.0, 0.0)
    result = list(pool)
    for check in checks:  # one pass per condition: cheaper than all() over a generator per row
        result = [i for i in result if check(rows[i], times.get(i, no_time))]
    return result


def run(realm: Realm, text: str) -> dict[str, Any]:
    """Answer a query with the `QueryResponse` body (without the envelope `time`)."""
    query = parse(text)
    ids = matching_ids(realm, query)
    if query.count:
        return {"QueryResponse": {"totalCount": len(ids)}}
    page = ids[query.start - 1: query.start - 1 + query.max]
    if not page:
        return {"QueryResponse": {}}
    rows = rows_of(realm, query.entity)
    objects = [rows[i] for i in page]
    return {"QueryResponse": {query.entity: objects, "startPosition": query.start, "maxResults": len(objects)}}
