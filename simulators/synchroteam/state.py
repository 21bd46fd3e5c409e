"""Everything the simulator holds: accounts, clock, limits, faults and the request log."""

from __future__ import annotations

from collections import deque
from typing import Any

from simulators.synchroteam.clock import DEFAULT_TIMEZONE, Clock
from simulators.synchroteam.errors import bad_request, not_found
from simulators.synchroteam.faults import Faults
from simulators.synchroteam.limits import Limits
from simulators.synchroteam.store import Account

REQUEST_LOG_SIZE = 100_000


ACCOUNT_KEYS = ("domain", "api_key", "timezone", "name_lookup")


class SimState:
    """``timezone`` and ``name_lookup`` are the start account's settings and the defaults of accounts added later
    without them (so one start option sets the whole simulator)."""

    def __init__(self, domain: str, api_key: str, timezone: str = DEFAULT_TIMEZONE,
                 name_lookup: str = "prefix") -> None:
        self.clock = Clock()
        self.default_domain = domain.lower()
        first = Account(domain, api_key, timezone, name_lookup)
        self.defaults = {"timezone": first.timezone, "name_lookup": first.name_lookup}
        self.accounts: dict[str, Account] = {self.default_domain: first}
        self.limits = Limits()
        self.faults = Faults()
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)

    def reset(self) -> None:
        """Drop data, faults, the log, counters and the clock offset; keep limits and accounts."""
        for account in self.accounts.values():
            account.clear_data()
        self.faults.clear()
        self.requests.clear()
        self.clock.reset()

    def add_account(self, raw: Any) -> Account:
        """Create an account, or update the key and settings of an existing one (same domain, any case).

        A new account without ``timezone`` / ``name_lookup`` gets the simulator's defaults (the start options).
        """
        if not isinstance(raw, dict) or not raw.get("domain") or not raw.get("api_key"):
            raise bad_request("each account needs a 'domain' and an 'api_key'")
        unknown = sorted(set(raw) - set(ACCOUNT_KEYS))
        if unknown:
            raise bad_request(f"unknown account keys {unknown} (allowed: {', '.join(ACCOUNT_KEYS)})")
        key = str(raw["domain"]).lower()
        account = self.accounts.get(key)
        if account is None:
            fresh = Account(str(raw["domain"]), str(raw["api_key"]), self.defaults["timezone"],
                            self.defaults["name_lookup"])
            fresh.configure(raw)
            account = self.accounts[key] = fresh
        else:
            account.configure(raw)
            account.api_key = str(raw["api_key"])
        return account

    def account(self, domain: str | None) -> Account:
        found = self.accounts.get((domain or self.default_domain).lower())
        if found is None:
            raise not_found(f"no account with domain '{domain}'")
        return found

    def public_link(self, account: Account, customer_id: int) -> str:
        return f"https://{account.domain}.synchroteam.com/Customers/Public/{customer_id}"
