"""Benchmark: the Synchroteam simulator holding 100,000 customers, read by one and by 10 concurrent clients.

Not a test: it prints figures. Run from the repository root:

    .venv/bin/python bench/bench_st_simulator.py [--customers 100000] [--clients 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devenv import sims  # noqa: E402
from simulators.synchroteam.testing import StClient  # noqa: E402

CHUNK = 10_000


def seed(sim: sims.SimProcess, count: int) -> float:
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        batch = [
            {"name": f"Customer {i:06d}", "address": f"{i} Market St, San Francisco, CA 94103, USA",
             "contactFirstName": "Pat", "contactLastName": f"Doe{i}", "contactEmail": f"pat{i}@example.com",
             "contactPhone": f"+1 415 555 {i % 10000:04d}", "active": i % 50 != 0,
             "dateCreated": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"}
            for i in range(start, min(count, start + CHUNK))
        ]
        sim.admin("POST", "/_sim/seed?echo=false", json={"customers": batch}, timeout=300).raise_for_status()
    return time.perf_counter() - started


def timed_pages(client: StClient, pages: list[int], **filters: Any) -> list[float]:
    latencies = []
    for page in pages:
        started = time.perf_counter()
        body = client.ok("GET", "customer/list", params={**filters, "page": page, "pageSize": 100})
        latencies.append(time.perf_counter() - started)
        assert body["data"] or page > body["recordsTotal"] // 100
    return latencies


def full_listing(client: StClient, **filters: Any) -> tuple[float, int, list[float]]:
    started = time.perf_counter()
    first = client.ok("GET", "customer/list", params={**filters, "page": 1, "pageSize": 100})
    pages = (first["recordsTotal"] + 99) // 100
    latencies = timed_pages(client, list(range(2, pages + 2)), **filters)
    return time.perf_counter() - started, first["recordsTotal"], latencies


def concurrent(url: str, clients: int, pages_each: int, total_pages: int) -> tuple[float, list[float]]:
    def worker(k: int) -> list[float]:
        client = StClient(url)
        pages = [1 + (k * 97 + j * 13) % total_pages for j in range(pages_each)]
        return timed_pages(client, pages)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    return time.perf_counter() - started, [x for r in results for x in r]


def mixed(url: str, clients: int, pages_each: int, total_pages: int) -> tuple[float, list[float]]:
    """Readers paging while one client keeps updating customers."""
    done = False

    def writer() -> None:
        client = StClient(url)
        i = 0
        while not done:
            client.ok("POST", "customer/send", json={"id": 1003 + (i % 1000) * 97, "contactMobile": f"+1 {i}"})
            i += 1

    with ThreadPoolExecutor(1) as wpool:
        wfuture = wpool.submit(writer)
        took, lat = concurrent(url, clients - 1, pages_each, total_pages)
        done = True
        wfuture.result()
    return took, lat


def report(label: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"  {label}: {len(latencies)} requests, median {statistics.median(ordered) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--pages-each", type=int, default=100)
    args = parser.parse_args()
    sim = sims.start("synchroteam", seed="empty")
    try:
        sim.admin("POST", "/_sim/limits", json={"requests_per_minute": 0, "daily_quota": 0}).raise_for_status()
        print(f"seeded {args.customers} customers in {seed(sim, args.customers):.1f} s")
        client = StClient(sim.url)
        took, total, lat = full_listing(client)
        print(f"full paged listing (pageSize 100): {total} active customers, {len(lat) + 1} requests in "
              f"{took:.1f} s ({(len(lat) + 1) / took:.0f} req/s)")
        report("pages", lat)
        took, total, lat = full_listing(client, changedSince="2024-06-01 00:00:00")
        print(f"changedSince listing: {total} customers, {len(lat) + 1} requests in {took:.1f} s")
        took, lat = concurrent(sim.url, args.clients, args.pages_each, (total + 99) // 100)
        print(f"{args.clients} concurrent clients x {args.pages_each} random pages: {len(lat)} requests in "
              f"{took:.1f} s ({len(lat) / took:.0f} req/s)")
        report("concurrent pages", lat)
        took, lat = mixed(sim.url, args.clients, args.pages_each, (total + 99) // 100)
        print(f"{args.clients - 1} readers + 1 writer (every write invalidates the list cache): {len(lat)} page "
              f"reads in {took:.1f} s")
        report("pages read while writing", lat)
        started = time.perf_counter()
        for i in range(200):
            client.ok("POST", "customer/send", json={"myId": None, "id": 1002 + i * 400, "contactPhone": f"555-{i}"})
        print(f"200 updates (send by id) with 100k present: {(time.perf_counter() - started) / 200 * 1000:.1f} ms each")
        started = time.perf_counter()
        for i in range(200):
            client.ok("GET", "customer/details", params={"name": f"Customer {i * 499:06d}"})
        print(f"200 details by name: {(time.perf_counter() - started) / 200 * 1000:.1f} ms each")
        started = time.perf_counter()
        for i in range(200):
            client.ok("GET", "customer/details", params={"name": f"customer 0{i % 10}"})  # ~10,000 names each
        print(f"200 details by a short prefix: {(time.perf_counter() - started) / 200 * 1000:.1f} ms each")
        now = sim.admin("GET", "/_sim/account").json()["now"][:10]  # the account's local date: filters are local
        started = time.perf_counter()
        changed = client.ok("GET", "customer/list", params={"changedSince": now, "pageSize": 100})
        print(f"changedSince today after the updates: {changed['recordsTotal']} customers in "
              f"{(time.perf_counter() - started) * 1000:.1f} ms")
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
