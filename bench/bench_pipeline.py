"""Benchmark: a whole run (extract both sides, diff_and_match, load, report) against both simulators and
PostgreSQL, at N customers per side (default 100,000). Prints figures; not a test.

Both sides hold the same N customers (same names and contacts), so the first Upload links every pair without
writing to either API; then a sync with 1% of the customers edited on each side. Simulator rate limits are switched
off so the figures show the connector, not the 500 requests/minute budget (which alone makes a real first upload of
100,000 new customers take hours: that is QuickBooks', not ours). Run: `.venv/bin/python bench/bench_pipeline.py [N]`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "include"), str(REPO / "plugins"), str(REPO)]


def st_rec(i: int) -> dict[str, Any]:
    return {"name": f"Customer {i:06d}", "address": f"{i} Main St, Springfield", "addressStreet": f"{i} Main St",
            "addressCity": "Springfield", "addressProvince": "IL", "addressZIP": "62701", "addressCountry": "USA",
            "contactFirstName": "Pat", "contactLastName": f"Lee{i}", "contactEmail": f"c{i}@example.com"}


def qbo_rec(i: int) -> dict[str, Any]:
    return {"DisplayName": f"Customer {i:06d}", "CompanyName": f"Customer {i:06d}", "GivenName": "Pat",
            "FamilyName": f"Lee{i}", "PrimaryEmailAddr": {"Address": f"c{i}@example.com"},
            "BillAddr": {"Line1": f"{i} Main St", "City": "Springfield", "CountrySubDivisionCode": "IL",
                         "PostalCode": "62701", "Country": "USA"}}


def timed(label: str, fn: Any) -> Any:
    t = time.perf_counter()
    out = fn()
    print(f"  {label:<22} {time.perf_counter() - t:7.2f} s  {out if isinstance(out, dict) else ''}", flush=True)
    return out


def run(rt: Any) -> None:
    from stqbo_sync import service

    timed("extract_synchroteam", lambda: service.extract_synchroteam(rt))
    timed("extract_quickbooks", lambda: service.extract_quickbooks(rt))
    timed("diff_and_match", lambda: service.diff_and_match(rt))
    timed("load_changes", lambda: service.load_changes(rt))
    timed("report", lambda: service.build_report(rt))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    from devenv import pg, sims
    from stqbo_api.quickbooks import QuickBooksClient
    from stqbo_api.synchroteam import SynchroteamClient
    from stqbo_api.tokens import TokenStore
    from stqbo_sync import service

    server = pg.find_or_start(REPO / "var" / "pgdata")
    name, dsn = server.create_temp_database("stqbo_bench")
    qbo = sims.start("quickbooks")
    st = sims.start("synchroteam")
    try:
        qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "concurrent": 0, "batch_per_minute": 0})
        st.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 0})
        t = time.perf_counter()
        for start in range(0, n, 10_000):
            chunk = range(start, min(n, start + 10_000))
            st.admin("POST", "/_sim/seed?echo=false", json={"customers": [st_rec(i) for i in chunk]}).raise_for_status()
            qbo.admin("POST", "/_sim/seed", json={"Customer": [qbo_rec(i) for i in chunk]}).raise_for_status()
        print(f"seeded {n:,} customers per side in {time.perf_counter() - t:.1f} s")
        grant = qbo.admin("POST", "/_sim/oauth/grant", json={"client_id": "demo-client",
                                                              "client_secret": "demo-secret"}).json()
        qc = QuickBooksClient(base_url=qbo.url, realm_id=grant["realm_id"], client_id="demo-client",
                              client_secret="demo-secret", token_store=TokenStore(dsn, "demo-secret"),
                              token_url=qbo.url + "/oauth2/v1/tokens/bearer",
                              initial_refresh_token=grant["refresh_token"])
        sc = SynchroteamClient(base_url=st.url, domain="demo", api_key="demo-api-key", timezone=sims.ST_TIMEZONE)
        for label, mode in (("Upload (links every pair)", "upload"), ("Sync after 1% edits on each side (worst case: every record is inside the changedSince overlap window, so all are re-read)", "sync")):
            if mode == "sync":
                state = st.admin("GET", "/_sim/state").json()["customers"]
                for c in state[:: 100]:
                    st.admin("PATCH", f"/_sim/customers/{c['id']}", json={"contactPhone": "555-0100"})
                qstate = qbo.admin("GET", "/_sim/state").json()["Customer"]
                for c in qstate[50:: 100]:
                    qbo.admin("PATCH", f"/_sim/Customer/{c['Id']}", json={"Mobile": {"FreeFormNumber": "555-0199"}})
            st.admin("DELETE", "/_sim/requests")
            qbo.admin("DELETE", "/_sim/requests")
            print(f"{label} ({n:,} per side):", flush=True)
            t = time.perf_counter()
            run(service.Runtime(dsn=dsn, run_id=f"bench_{mode}", qbo=qc, st=sc, mode=mode))
            print(f"  total {time.perf_counter() - t:.1f} s; API writes: QuickBooks {len(qbo.writes())}, "
                  f"Synchroteam {len(st.writes())}; calls: {len(qbo.requests_log())} + {len(st.requests_log())}")
        print(f"max RSS of the connector process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    finally:
        qbo.stop()
        st.stop()
        server.drop_database(name)
        print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
