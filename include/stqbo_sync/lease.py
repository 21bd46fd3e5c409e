"""One run at a time per tenant: the run lease, taken by a run's first tasks and checked by every later one."""

from __future__ import annotations

import time

from stqbo_store import Scope, tenants

POLL_SECONDS = 2.0


class TenantBusy(RuntimeError):
    """Another run holds this tenant's lease; this run must wait (the task is retried later)."""


def acquire(s: Scope, wait_seconds: float = 0.0) -> None:
    """Take the lease for ``s.run_id`` (re-entrant for the same run; an expired one is taken over), waiting up to
    ``wait_seconds`` for another run to give it back. Commits each try, so other runs see it at once."""
    deadline = time.monotonic() + wait_seconds
    while True:
        holder = tenants.take_lease(s)
        s.conn.commit()
        if holder is None:
            return
        if time.monotonic() >= deadline:
            raise TenantBusy(f"run {holder[0]} is still working on this tenant (last heartbeat {holder[1]}); this "
                             f"run will be retried. A lease expires after {tenants.LEASE_TTL}.")
        time.sleep(POLL_SECONDS)


def check(s: Scope) -> None:
    """Every task after the first verifies it still holds the lease (and refreshes the heartbeat)."""
    acquire(s, wait_seconds=0)


def release(s: Scope) -> None:
    tenants.release_lease(s)
    s.conn.commit()
