"""Benchmark: `service.plan_and_push_invoices` of N new invoices, a quiet re-run, then N edited invoices, against
both simulators and PostgreSQL. Prints wall time, QuickBooks calls and writes per phase; not a test.

Scenario: N/5 customers already linked, N invoices of 3 lines each over 20 parts (half with US tax), rate limits
off in the simulators. The hook's own client-side limiter still applies QuickBooks' real budget (500 requests/min
per realm, each batch item counting as one; 40 batches/min): with N=300, creating and then updating 300 invoices
is ~700 request units, so the third phase waits for the minute window (seen: first push 0.6 s / 98 calls / 30
writes; quiet re-run 0.1 s / 4 reads / 0 writes; 300 updates 59 s, nearly all of it the limiter, 24 calls / 10
writes). Run: `.venv/bin/python bench/bench_invoices.py [N]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from devenv import pg, sims
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import QuickBooksClient
from stqbo_api.synchroteam import SynchroteamClient
from stqbo_api.tokens import TokenStore
from stqbo_store import Conn, Scope, migrate, staging, tenants
from stqbo_store import connect as connect_db
from stqbo_store import mapping as mapping_db
from stqbo_sync import service
from stqbo_sync.types import RunContext

REPO = Path(__file__).resolve().parent.parent


def seed(qbo: sims.SimProcess, st: sims.SimProcess, n: int) -> None:
    customers = max(1, n // 5)
    qbo.admin("POST", "/_sim/seed", json={"Customer": [{"DisplayName": f"Customer {c:05d}"}
                                                       for c in range(customers)]}).raise_for_status()
    parts = [{"reference": f"P-{p:02d}", "name": f"Part {p}", "price": f"{10 + p}.50",
              "type": "service" if p % 2 else "part"} for p in range(20)]
    lines = [
        [{"partProductCode": f"P-{(i + k) % 20:02d}", "description": "work", "quantity": 1 + (i + k) % 4,
          "unitPrice": 10 + (i + k) % 20 + 0.5, "discount": 10 if k == 1 else 0,
          "tax": {"name": "NY", "rate": 8.875} if (i + k) % 2 else None} for k in range(3)]
        for i in range(n)]
    body = {"customers": [{"name": f"Customer {c:05d}", "address": "1 Main St"} for c in range(customers)],
            "parts": parts,
            "invoices": [{"id": 10_000 + i, "num": 50_000 + i, "status": "sent",
                          "customer": {"name": f"Customer {i % customers:05d}"}, "lines": lines[i]}
                         for i in range(n)]}
    st.admin("POST", "/_sim/seed", json=body).raise_for_status()


def phase(name: str, qbo: sims.SimProcess, st_sim: sims.SimProcess, conn: Conn, q: QuickBooksClient,
          s: SynchroteamClient, tenant: int, run_id: str) -> None:
    staged = [(int(i["id"]), i) for i in st_sim.admin("GET", "/_sim/state").json()["invoices"]]
    ctx = RunContext(conn, tenant, run_id)
    staging.replace(ctx, "st_invoice", staged)
    conn.commit()
    qbo.admin("DELETE", "/_sim/requests")
    started = time.perf_counter()
    counts = service.plan_and_push_invoices(ctx, q, s, QuickBooksOptions())
    elapsed = time.perf_counter() - started
    log = qbo.requests_log()
    kinds = Counter(f"{r['method']} {r['path'].rsplit('/', 1)[-1]}" for r in log)
    print(f"{name:<28} {elapsed:7.2f} s  {len(log):5d} QuickBooks calls ({len(qbo.writes())} writes)  "
          f"{dict(counts)}  {dict(kinds.most_common(4))}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = Path(tempfile.mkdtemp(prefix="bench-invoices-"))
    server = pg.find_or_start(REPO / "var" / "pgdata-bench")
    db_name, url = server.create_temp_database("stqbo_bench")
    qbo = sims.start("quickbooks", log_path=tmp / "qbo.log")
    st_sim = sims.start("synchroteam", log_path=tmp / "st.log")
    try:
        qbo.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "concurrent": 0, "batch_per_minute": 0})
        st_sim.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 0})
        grant = qbo.admin("POST", "/_sim/oauth/grant",
                          json={"client_id": "demo-client", "client_secret": "demo-secret"}).json()
        dsn = pg.psycopg2_dsn(url)
        q = QuickBooksClient(qbo.url, grant["realm_id"], "demo-client", "demo-secret", TokenStore(dsn, "demo-secret"),
                             qbo.url + "/oauth2/v1/tokens/bearer", initial_refresh_token=grant["refresh_token"])
        s = SynchroteamClient(st_sim.url, "demo", "demo-api-key", timezone=sims.ST_TIMEZONE)
        seed(qbo, st_sim, n)
        conn = connect_db(dsn)
        migrate.migrate(conn)
        tenant = tenants.ensure_tenant(conn, "demo", q.realm_id, "sandbox", qbo.url)
        st_ids = {c["name"]: c["id"] for c in st_sim.admin("GET", "/_sim/state").json()["customers"]}
        for c in qbo.admin("GET", "/_sim/state").json()["Customer"]:
            mapping_db.add_link(Scope(conn, tenant, "bench"), int(st_ids[c["DisplayName"]]), str(c["Id"]), "match")
        conn.commit()
        print(f"{n} invoices, {len(st_ids)} customers, 20 parts")
        phase("first push (create)", qbo, st_sim, conn, q, s, tenant, "bench-1")
        phase("quiet re-run", qbo, st_sim, conn, q, s, tenant, "bench-2")
        for i in range(n):
            st_sim.admin("PATCH", f"/_sim/invoices/{10_000 + i}", json={"description": "edited"})
        phase("all edited (update)", qbo, st_sim, conn, q, s, tenant, "bench-3")
        conn.close()
    finally:
        qbo.stop()
        st_sim.stop()
        server.drop_database(db_name)


if __name__ == "__main__":
    main()
