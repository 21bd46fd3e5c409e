"""Benchmark: diff_and_match (plan_customers.build) at 100,000 customers per side. Prints figures; not a test.

Scenario: 100,000 Synchroteam and 100,000 QuickBooks customers; 90,000 pairs already linked with bases (a full
read, as in the daily reconcile or an Upload), of which 5% changed on one side, 1% on both (conflicts); 10,000
unlinked on each side, half of them matching by name. Run: `.venv/bin/python bench/bench_diff.py [N]`.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from typing import Any

from stqbo_sync import mapping, plan_customers
from stqbo_sync.types import Mode


def st_rec(i: int, name: str, email: str) -> dict[str, Any]:
    return {"id": i, "name": name, "contactFirstName": "First", "contactLastName": f"Last{i}",
            "contactEmail": email, "contactPhone": f"555-{i:07d}", "addressStreet": f"{i} Main St",
            "addressCity": "Springfield", "addressProvince": "IL", "addressZIP": "62701", "addressCountry": "USA",
            "active": True, "dateModified": "2026-11-25 10:00"}


def qbo_rec(i: int, name: str, email: str) -> dict[str, Any]:
    return {"Id": str(i), "SyncToken": "0", "DisplayName": name, "GivenName": "First", "FamilyName": f"Last{i}",
            "PrimaryEmailAddr": {"Address": email}, "PrimaryPhone": {"FreeFormNumber": f"555-{i:07d}"},
            "BillAddr": {"Line1": f"{i} Main St", "City": "Springfield", "CountrySubDivisionCode": "IL",
                         "PostalCode": "62701", "Country": "USA"}, "Active": True,
            "MetaData": {"LastUpdatedTime": "2026-11-25T02:00:00-08:00"}}


def build_inputs(n: int) -> plan_customers.PlanInputs:
    rnd = random.Random(7)
    linked = int(n * 0.9)
    st_staged, qbo_staged, links, st_bases, qbo_bases = {}, {}, [], {}, {}
    for i in range(n):
        name, email = f"Customer {i:06d}", f"c{i}@example.com"
        s, q = st_rec(100000 + i, name, email), qbo_rec(1 + i, name, email)
        if i < linked:
            links.append((100000 + i, str(1 + i), False))
            st_bases[str(100000 + i)] = {"canon": mapping.st_to_canon(s), "version": None}
            qbo_bases[str(1 + i)] = {"canon": mapping.qbo_to_canon(q), "version": "0"}
            r = rnd.random()
            if r < 0.05:
                s["contactEmail"] = f"new{i}@example.com"
            elif r < 0.06:
                s["contactPhone"], q["PrimaryPhone"] = "111", {"FreeFormNumber": "222"}
        elif i % 2:
            q["DisplayName"] = f"Other QBO {i:06d}"          # unlinked, no match: created in Synchroteam
            s["name"] = f"Other ST {i:06d}"                  # unlinked, no match: created in QuickBooks
        st_staged[100000 + i] = s
        qbo_staged[str(1 + i)] = q
    return plan_customers.PlanInputs(mode=Mode.SYNC, st_staged=st_staged, qbo_staged=qbo_staged, links=links,
                           st_bases=st_bases, qbo_bases=qbo_bases, st_zone="America/New_York", st_full_read=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t0 = time.perf_counter()
    inputs = build_inputs(n)
    t1 = time.perf_counter()
    result = plan_customers.build(inputs)
    t2 = time.perf_counter()
    counts: dict[str, int] = {}
    for row in result.rows:
        counts[str(row.action)] = counts.get(str(row.action), 0) + 1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"customers per side     : {n:,}")
    print(f"build inputs           : {t1 - t0:6.2f} s")
    print(f"build (diff+match)     : {t2 - t1:6.2f} s")
    print(f"plan rows              : {len(result.rows):,} {counts}")
    print(f"conflicts              : {len(result.conflicts):,}")
    print(f"max RSS                : {rss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
