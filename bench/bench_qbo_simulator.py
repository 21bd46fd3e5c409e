"""Benchmark of the QuickBooks simulator at `make demo` / benchmark scale: 100,000 customers, 10 clients.

Run from the repository root: `.venv/bin/python bench/bench_qbo_simulator.py [--customers N] [--clients N]`.
It starts its own simulator process (limits set to 0 = unlimited, so the figures show the simulator's own
speed, not QuickBooks' throttling) and prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devenv import sims  # noqa: E402

CLIENT = ("demo-client", "demo-secret")


def connect(sim: sims.SimProcess) -> tuple[str, dict[str, str]]:
    grant = sim.admin("POST", "/_sim/oauth/grant", json={"client_id": CLIENT[0], "client_secret": CLIENT[1]}).json()
    tokens = requests.post(f"{sim.url}/oauth2/v1/tokens/bearer", auth=CLIENT, timeout=30,
                           data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}).json()
    base = f"{sim.url}/v3/company/{grant['realm_id']}"
    return base, {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}


def customer(i: int) -> dict[str, Any]:
    return {"DisplayName": f"Customer {i:06d}", "GivenName": f"Given{i}", "FamilyName": f"Family{i % 997}",
            "CompanyName": f"Company {i}", "PrimaryEmailAddr": {"Address": f"c{i}@example.com"},
            "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{i % 10000:04d}"},
            "BillAddr": {"Line1": f"{i} Main St.", "City": "Middlefield", "CountrySubDivisionCode": "CA",
                         "PostalCode": "94303"}, "Active": i % 50 != 0}


def seed(sim: sims.SimProcess, total: int, chunk: int = 5000) -> float:
    start = time.perf_counter()
    for first in range(0, total, chunk):
        resp = sim.admin("POST", "/_sim/seed", json={"Customer": [customer(i) for i in range(first, min(total, first + chunk))]},
                         timeout=600)
        resp.raise_for_status()
    return time.perf_counter() - start


def query(session: requests.Session, base: str, headers: dict[str, str], text: str) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    resp = session.get(f"{base}/query", params={"query": text, "minorversion": "75"}, headers=headers, timeout=120)
    resp.raise_for_status()
    return time.perf_counter() - start, resp.json()


def page_all(base: str, headers: dict[str, str], where: str = "", order: str = "") -> tuple[float, list[float], int]:
    """Read every customer page by page, as a full reconcile does."""
    session = requests.Session()
    latencies, rows, start_pos = [], 0, 1
    start = time.perf_counter()
    while True:
        took, body = query(session, base, headers,
                           f"SELECT * FROM Customer {where} {order} STARTPOSITION {start_pos} MAXRESULTS 1000")
        latencies.append(took)
        page = body["QueryResponse"].get("Customer", [])
        rows += len(page)
        if len(page) < 1000:
            break
        start_pos += 1000
    return time.perf_counter() - start, latencies, rows


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def concurrent_clients(base: str, headers: dict[str, str], clients: int, pages: int) -> tuple[float, list[float]]:
    def worker(n: int) -> list[float]:
        session = requests.Session()
        out = []
        for p in range(pages):
            start_pos = 1 + ((n * pages + p) % 98) * 1000
            took, _ = query(session, base, headers, f"SELECT * FROM Customer STARTPOSITION {start_pos} MAXRESULTS 1000")
            out.append(took)
            took, _ = query(session, base, headers,
                            f"SELECT * FROM Customer WHERE DisplayName = 'Customer {(n * 7919 + p) % 100000:06d}'")
            out.append(took)
        return out

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    return time.perf_counter() - start, [t for r in results for t in r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--pages", type=int, default=10, help="pages (plus as many name look-ups) per client")
    args = parser.parse_args()
    sim = sims.start("quickbooks")
    try:
        sim.admin("POST", "/_sim/limits", json={"requests_per_second": 0, "requests_per_minute": 0, "concurrent": 0,
                                                "batch_per_minute": 0})
        print(f"seed {args.customers} customers via /_sim/seed: {seed(sim, args.customers):.1f} s")
        base, headers = connect(sim)
        session = requests.Session()
        took, body = query(session, base, headers, "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")
        print(f"COUNT(*) (cold scan): {took * 1000:.0f} ms -> {body['QueryResponse']['totalCount']}")
        took, _ = query(session, base, headers, "SELECT * FROM Customer WHERE DisplayName = 'Customer 054321'")
        print(f"DisplayName = lookup (index): {took * 1000:.1f} ms")
        total, lat, rows = page_all(base, headers, "WHERE Active IN (true, false)")
        print(f"paged full SELECT * ({len(lat)} pages of 1000, {rows} rows): {total:.1f} s; "
              f"first page {lat[0] * 1000:.0f} ms, page p50 {pct(lat, 0.5):.0f} ms, p95 {pct(lat, 0.95):.0f} ms")
        total, lat, rows = page_all(base, headers, "WHERE MetaData.LastUpdatedTime >= '2000-01-01T00:00:00-08:00'",
                                    "ORDER BY MetaData.LastUpdatedTime ASC")
        print(f"incremental-style ordered paging ({len(lat)} pages, {rows} rows): {total:.1f} s; "
              f"first page {lat[0] * 1000:.0f} ms, p50 {pct(lat, 0.5):.0f} ms")
        total, lat = concurrent_clients(base, headers, args.clients, args.pages)
        print(f"{args.clients} concurrent clients x {args.pages} pages + {args.pages} look-ups: {total:.1f} s, "
              f"{len(lat) / total:.1f} req/s, p50 {pct(lat, 0.5):.0f} ms, p95 {pct(lat, 0.95):.0f} ms, "
              f"max {max(lat) * 1000:.0f} ms, mean {statistics.mean(lat) * 1000:.0f} ms")
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        start = time.perf_counter()
        resp = session.get(f"{base}/cdc", params={"entities": "Customer", "changedSince": yesterday}, headers=headers,
                           timeout=120)
        print(f"CDC Customer (capped at 1000 objects): {(time.perf_counter() - start) * 1000:.0f} ms, status {resp.status_code}")
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
