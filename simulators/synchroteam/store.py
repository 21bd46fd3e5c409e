"""In-memory state per account, with the indexes that keep list calls cheap at 100,000 customers.

Handlers run on the event loop (one uvicorn worker, `async def` everywhere), so no locking is needed: each
request sees and leaves a consistent state.

Paging a large result set must not rescan the table on every page, so each table keeps a `version` bumped on
every write and a small cache of filtered id lists keyed by the filters: a client paging through one listing
computes the filter once.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulators.synchroteam.clock import DEFAULT_TIMEZONE, parse_zone
from simulators.synchroteam.customers import name_key
from simulators.synchroteam.errors import bad_request

_CACHE_SIZE = 32


class QueryCache:
    """Filtered id lists keyed by filters, valid for one table version."""

    def __init__(self) -> None:
        self.version = 0
        self._cached_version = -1
        self._entries: OrderedDict[Hashable, list[int]] = OrderedDict()

    def bump(self) -> None:
        self.version += 1

    def get(self, key: Hashable, compute: Callable[[], list[int]]) -> list[int]:
        if self._cached_version != self.version:
            self._entries.clear()
            self._cached_version = self.version
        hit = self._entries.get(key)
        if hit is None:
            hit = compute()
            self._entries[key] = hit
            if len(self._entries) > _CACHE_SIZE:
                self._entries.popitem(last=False)
        return hit


def _index_add(index: dict[str, set[int]], key: str | None, rid: int) -> None:
    if key:
        index.setdefault(key, set()).add(rid)


def _index_remove(index: dict[str, set[int]], key: str | None, rid: int) -> None:
    if key and key in index:
        index[key].discard(rid)
        if not index[key]:
            del index[key]


class CustomerTable:
    """Customers by id, with secondary indexes on myId, name, contact e-mail and modification time."""

    def __init__(self, first_id: int = 1001) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self.ids: list[int] = []  # sorted ascending: the list order
        # The plain listing (no filter but `active`) is the common case: kept sorted incrementally so that a
        # write does not force the next page to rescan the table.
        self.by_active: dict[bool, list[int]] = {True: [], False: []}
        self.by_myid: dict[str, int] = {}
        self.by_name: dict[str, set[int]] = {}
        self.names: list[tuple[str, int]] = []  # sorted (name key, id): prefix look-ups are a bisect
        self.by_email: dict[str, set[int]] = {}
        self.by_modified: list[tuple[datetime, int]] = []  # sorted: `changedSince` is a bisect
        self.next_id = first_id
        self.cache = QueryCache()

    def allocate_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def insert(self, record: dict[str, Any]) -> None:
        rid = record["id"]
        self.by_id[rid] = record
        if not self.ids or self.ids[-1] < rid:
            self.ids.append(rid)
        else:
            bisect.insort(self.ids, rid)
        self.next_id = max(self.next_id, rid + 1)
        self._index(record)
        self.cache.bump()

    def bulk_insert(self, records: list[dict[str, Any]]) -> None:
        """Seed many records at once: append, then sort the ordered indexes once (insort per row is O(n^2))."""
        for record in records:
            rid = record["id"]
            self.by_id[rid] = record
            self.ids.append(rid)
            self.next_id = max(self.next_id, rid + 1)
            if record.get("myId"):
                self.by_myid[record["myId"]] = rid
            _index_add(self.by_name, name_key(record.get("name")), rid)
            self.names.append((name_key(record.get("name")), rid))
            _index_add(self.by_email, name_key(record.get("contactEmail")), rid)
            self.by_modified.append((record["dateModified"], rid))
            self.by_active[bool(record["active"])].append(rid)
        self.ids.sort()
        self.names.sort()
        self.by_modified.sort()
        self.by_active[True].sort()
        self.by_active[False].sort()
        self.cache.bump()

    def replace(self, record: dict[str, Any]) -> None:
        old = self.by_id[record["id"]]
        self._unindex(old)
        self.by_id[record["id"]] = record
        self._index(record)
        self.cache.bump()

    def remove(self, rid: int) -> dict[str, Any]:
        record = self.by_id.pop(rid)
        del self.ids[bisect.bisect_left(self.ids, rid)]
        self._unindex(record)
        self.cache.bump()
        return record

    def _index(self, record: dict[str, Any]) -> None:
        rid = record["id"]
        if record.get("myId"):
            self.by_myid[record["myId"]] = rid
        _index_add(self.by_name, name_key(record.get("name")), rid)
        bisect.insort(self.names, (name_key(record.get("name")), rid))
        _index_add(self.by_email, name_key(record.get("contactEmail")), rid)
        bisect.insort(self.by_modified, (record["dateModified"], rid))
        active = self.by_active[bool(record["active"])]
        if not active or active[-1] < rid:
            active.append(rid)
        else:
            bisect.insort(active, rid)

    def _unindex(self, record: dict[str, Any]) -> None:
        rid = record["id"]
        if record.get("myId") and self.by_myid.get(record["myId"]) == rid:
            del self.by_myid[record["myId"]]
        _index_remove(self.by_name, name_key(record.get("name")), rid)
        del self.names[bisect.bisect_left(self.names, (name_key(record.get("name")), rid))]
        _index_remove(self.by_email, name_key(record.get("contactEmail")), rid)
        pos = bisect.bisect_left(self.by_modified, (record["dateModified"], rid))
        del self.by_modified[pos]
        active = self.by_active[bool(record["active"])]
        del active[bisect.bisect_left(active, rid)]

    def first_with_prefix(self, prefix: str) -> int | None:
        """The lowest id whose name starts with ``prefix`` (case-folded), or None.

        The matches are one contiguous run of the sorted name index; a short prefix may match many names, so
        the run is scanned for its lowest id (a look-up by a full name usually matches one or two).
        """
        key = name_key(prefix)
        start = bisect.bisect_left(self.names, (key,))
        best: int | None = None
        names = self.names
        for pos in range(start, len(names)):
            name, rid = names[pos]
            if not name.startswith(key):
                break
            best = rid if best is None else min(best, rid)
        return best

    def first_with_name(self, name: str) -> int | None:
        """The lowest id whose name equals ``name`` ignoring case (the lenient `exact` look-up)."""
        matches = self.by_name.get(name_key(name))
        return min(matches) if matches else None

    def changed_since(self, since: datetime) -> list[int]:
        start = bisect.bisect_left(self.by_modified, (since,))
        return sorted(rid for _, rid in self.by_modified[start:])


class SimpleTable:
    """Parts or invoices: few enough that a filtered scan per table version is cheap."""

    def __init__(self, first_id: int) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self.next_id = first_id
        self.cache = QueryCache()

    def allocate_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def put(self, record: dict[str, Any]) -> None:
        self.by_id[record["id"]] = record
        self.next_id = max(self.next_id, record["id"] + 1)
        self.cache.bump()

    def remove(self, rid: int) -> dict[str, Any]:
        record = self.by_id.pop(rid)
        self.cache.bump()
        return record


NAME_LOOKUPS = ("prefix", "exact")


def parse_name_lookup(raw: object) -> str:
    """`prefix` (the real service's reading, the default) or `exact` (lenient, for debugging)."""
    if not isinstance(raw, str) or raw.lower() not in NAME_LOOKUPS:
        raise bad_request(f"'name_lookup' must be one of {', '.join(NAME_LOOKUPS)}")
    return raw.lower()


@dataclass
class Account:
    """One Synchroteam account (domain): its key, its settings, its data, its rate-limit and quota counters.

    Settings: ``timezone`` (IANA name: every date-time the API shows or reads is local time there) and
    ``name_lookup`` (how `customer/details?name=` matches). Both survive `/_sim/reset`, like the account itself.
    """

    domain: str
    api_key: str
    timezone: str = DEFAULT_TIMEZONE
    name_lookup: str = "prefix"
    zone: ZoneInfo = field(init=False, repr=False)
    customers: CustomerTable = field(default_factory=CustomerTable)
    parts: SimpleTable = field(default_factory=lambda: SimpleTable(501))
    invoices: SimpleTable = field(default_factory=lambda: SimpleTable(88001))
    taxes: dict[tuple[str, float], int] = field(default_factory=dict)
    next_invoice_num: int = 1001
    window_start: float = 0.0
    window_count: int = 0
    quota_day: str = ""
    quota_count: int = 0

    def __post_init__(self) -> None:
        self.configure({"timezone": self.timezone, "name_lookup": self.name_lookup})

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply ``timezone`` and/or ``name_lookup`` (validated first, so a bad body changes nothing)."""
        zone = parse_zone(settings["timezone"]) if "timezone" in settings else None
        lookup = parse_name_lookup(settings["name_lookup"]) if "name_lookup" in settings else None
        if zone is not None:
            self.zone = zone
            self.timezone = zone.key
        if lookup is not None:
            self.name_lookup = lookup

    def settings(self) -> dict[str, Any]:
        return {"domain": self.domain, "timezone": self.timezone, "name_lookup": self.name_lookup}

    def clear_data(self) -> None:
        self.customers = CustomerTable()
        self.parts = SimpleTable(501)
        self.invoices = SimpleTable(88001)
        self.taxes = {}
        self.next_invoice_num = 1001
        self.clear_counters()

    def clear_counters(self) -> None:
        self.window_start = 0.0
        self.window_count = 0
        self.quota_day = ""
        self.quota_count = 0

    def part_by_reference(self, reference: str) -> dict[str, Any] | None:
        key = reference.casefold()
        return next((p for p in self.parts.by_id.values() if p["reference"].casefold() == key), None)

    def tax_id(self, name: str, rate: float) -> int:
        return self.taxes.setdefault((name, rate), len(self.taxes) + 1)
