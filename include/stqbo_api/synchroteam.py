"""A Synchroteam REST API v3 client on plain ``requests`` (the Airflow hook wraps it).

Basic auth (domain, API key); list calls page by 100. Synchroteam speaks the **account's local time** with no
zone (``yyyy-MM-dd HH:mm``, seconds sometimes), in replies and in date filters alike; the client knows the account's
IANA zone (the connection's ``timezone`` extra) and is the one place that converts: `local_filter` turns a UTC
instant into a filter value that can never start a change read late (also in the repeated hour of a DST change,
whichever instant the server takes), and `to_utc` reads a reply's time as an aware UTC instant. Records are
returned as Synchroteam sent them (an invoice's dates stay local calendar dates). Rate limits are read from the server's headers: when
``X-RateLimit-Remaining`` is 0 the next call waits for ``X-RateLimit-Reset``; when ``X-Quota-Remaining`` is 0
the client stops with ``QuotaExhaustedError`` (fatal, says when the quota resets) instead of hammering a
server that will refuse everything until midnight UTC.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from stqbo_api.errors import (
    SYNCHROTEAM,
    ApiError,
    ConfigurationError,
    FatalApiError,
    NotFoundError,
    QuotaExhaustedError,
    map_synchroteam_error,
    quota_error,
    quota_exhausted,
    quota_resets_at,
    seconds_until_reset,
)
from stqbo_api.redact import register_secret
from stqbo_api.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, RetryPolicy, Transport

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://ws.synchroteam.com"
PAGE_SIZE = 100
MAX_HEADER_WAIT = 60.0  # a per-minute window never needs longer; guards against clock skew


def account_zone(name: str | None, connection: str = "the Synchroteam connection") -> ZoneInfo:
    """The account's time zone; a missing or unknown name is a configuration error (never a silent UTC)."""
    if not name or not str(name).strip():
        raise ConfigurationError(
            f"The option timezone of {connection} is missing: Synchroteam answers in the account's local time, so "
            "set it to the account's IANA time zone (for example America/New_York) in the connection's extra",
            option="timezone", connection=connection)
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"The option timezone of {connection} is not an IANA time zone name (for example Europe/Paris); fix it "
            "in the connection's extra", option="timezone", connection=connection) from None


def _readings(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a naive local time can mean (two in a repeated hour, two guesses in a skipped one)."""
    return tuple(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))  # type: ignore[return-value]


def local_filter(dt: datetime, zone: ZoneInfo) -> str:
    """A "since" filter for the instant ``dt`` in the account's local time (``yyyy-MM-dd HH:mm:ss``). In a repeated
    or skipped hour the server may read the value as either instant: the value is moved back until every reading
    is at or before ``dt``, so a change read may start early (records are de-duplicated) but never late."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    wall = dt.astimezone(zone).replace(tzinfo=None)
    for _ in range(4):
        latest = max(_readings(wall, zone))
        if latest <= dt:
            break
        wall -= latest - dt
    return wall.strftime("%Y-%m-%d %H:%M:%S")


def to_utc(value: str, zone: ZoneInfo) -> datetime:
    """A Synchroteam date-time (``2021-11-19 07:56``, with or without seconds or ``T``) as aware UTC: naive values
    are the account's local time (the earlier instant in a repeated hour); a ``Z`` or an offset is taken as given."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return parsed.astimezone(UTC)


@dataclass
class _HeaderLimits:
    """What the server last said about its limits (per client: a new client re-learns it on its first call)."""

    remaining: int | None = None
    reset_at: float | None = None
    quota_headers: dict[str, str] | None = None
    quota_resets_at: datetime | None = None


ZONE_TOLERANCE = timedelta(minutes=10)


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass(frozen=True)
class ZoneMismatch:
    """What a write showed of the account's clock, against the configured zone."""

    configured: str
    observed_offset: timedelta      # the account's wall time minus UTC, to the quarter hour
    configured_offset: timedelta
    stamp: str
    at: datetime

    def message(self, domain: str) -> str:
        return (f"The Synchroteam account {domain} is not in the time zone its connection says: a customer written "
                f"at {self.at:%Y-%m-%d %H:%M} UTC came back modified at {self.stamp} (local), that is "
                f"{_offset(self.observed_offset)}, but timezone {self.configured} is {_offset(self.configured_offset)} "
                "then. Every change read and every newer-edit comparison would be off by the difference, so this "
                "account's reads are held until the connection's timezone extra is fixed (Synchroteam shows the "
                "account's zone in its settings).")


class SynchroteamClient:
    """One Synchroteam account (domain) authenticated with its API key."""

    def __init__(
        self,
        base_url: str | None,
        domain: str,
        api_key: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        page_size: int = PAGE_SIZE,
        timezone: str | None = None,
    ) -> None:
        self.zone = account_zone(timezone)
        self.timezone = self.zone.key
        self.zone_mismatch: ZoneMismatch | None = None   # set when the account's clock contradicts the zone
        if not domain or not api_key:
            raise ValueError("the Synchroteam connection needs the account domain (login) and API key (password)")
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if "://" not in self.base_url:
            self.base_url = "https://" + self.base_url
        self.domain = domain
        self.page_size = min(page_size, PAGE_SIZE)
        register_secret(api_key)
        self._session = session or requests.Session()
        self._session.auth = (domain, api_key)
        self._policy = retry_policy or RetryPolicy()
        self._transport = Transport(
            SYNCHROTEAM, self._session, _classify, self._policy, connect_timeout, read_timeout
        )
        self._header_limits = _HeaderLimits()

    def __repr__(self) -> str:
        return f"SynchroteamClient(domain={self.domain!r}, base_url={self.base_url!r}, timezone={self.timezone!r})"

    def to_utc(self, value: str) -> datetime:
        """A date-time this account returned, as an aware UTC instant."""
        return to_utc(value, self.zone)

    # ------------------------------------------------------------------------------------------ requests

    def _gate(self) -> Any:
        """Before each attempt: stop at a spent quota, wait when the per-minute budget is spent."""
        state = self._header_limits
        if state.quota_headers is not None:
            if state.quota_resets_at is not None and datetime.now(UTC) >= state.quota_resets_at:
                state.quota_headers = state.quota_resets_at = None
            else:
                raise quota_error(state.quota_headers, api=SYNCHROTEAM)
        if state.remaining is not None and state.remaining <= 0 and state.reset_at is not None:
            wait = min(MAX_HEADER_WAIT, state.reset_at - time.time())
            if wait > 0:
                log.info("Synchroteam rate limit reached; waiting %.1f s for the window to reset", wait)
                self._policy.sleep(wait)
            state.remaining = None
        return _NullContext()

    def _after(self, resp: requests.Response) -> None:
        headers = resp.headers
        state = self._header_limits
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is not None:
            try:
                state.remaining = int(float(remaining))
            except ValueError:
                state.remaining = None
            wait = seconds_until_reset(headers.get("X-RateLimit-Reset"))
            state.reset_at = time.time() + wait if wait is not None else None
        if quota_exhausted(headers):
            state.quota_headers = {k: v for k, v in headers.items() if k.lower().startswith("x-quota")}
            state.quota_resets_at = quota_resets_at(state.quota_headers)
            log.warning("Synchroteam reports its daily API quota is used up; further calls will stop")

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool = True,
    ) -> Any:
        resp = self._transport.request(
            method,
            f"{self.base_url}/api/v3/{path}",
            describe=f"{method} /api/v3/{path}",
            params={k: v for k, v in (params or {}).items() if v is not None},
            json=body,
            headers=lambda: {"Accept": "application/json", "Cache-Control": "no-cache"},
            gate=self._gate,
            after=self._after,
            idempotent=idempotent,
        )
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise FatalApiError(
                f"Synchroteam answered HTTP {resp.status_code} with a body that is not JSON",
                api=SYNCHROTEAM, status=resp.status_code, body=resp.text,
            ) from None

    def _paged(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            data = self._call("GET", path, params={**params, "page": page, "pageSize": self.page_size}) or {}
            rows = list(data.get("data") or [])
            yield from rows
            total = data.get("recordsTotal")
            if len(rows) < self.page_size or (isinstance(total, int) and page * self.page_size >= total):
                return
            page += 1

    def _details(self, path: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            found = self._call("GET", path, params=params)
        except NotFoundError:
            return None
        return found if isinstance(found, dict) else None

    # ------------------------------------------------------------------------------------------ customers

    def list_customers(
        self, changed_since: datetime | None = None, active: bool | None = None, name: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Customers changed since a date; ``active=None`` lists active and inactive ones (two passes). ``name``
        asks the server to filter by name; what it matches is not to be trusted (callers compare names)."""
        since = local_filter(changed_since, self.zone) if changed_since else None
        seen: set[Any] = set()
        for flag in ([True, False] if active is None else [active]):
            params = {"changedSince": since, "active": str(flag).lower(), "name": name}
            for row in self._paged("customer/list", params):
                key = row.get("id")
                if key is not None and key in seen:
                    continue
                seen.add(key)
                yield row

    def get_customer(
        self, *, id: int | None = None, my_id: str | None = None, name: str | None = None
    ) -> dict[str, Any] | None:
        """One customer by exactly one key; None when there is none."""
        keys = {"id": id, "myId": my_id, "name": name}
        given = {k: v for k, v in keys.items() if v is not None}
        if len(given) != 1:
            raise ValueError("get_customer takes exactly one of id, my_id, name")
        return self._details("customer/details", given)

    def send_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update (by ``id``, else ``myId``); retried on lost replies only when keyed."""
        keyed = body.get("id") is not None or bool(body.get("myId"))
        started = datetime.now(UTC)
        result = self._call("POST", "customer/send", body=body, idempotent=keyed)
        if isinstance(result, dict) and isinstance(result.get("dateModified"), str):
            self._observe_zone(result["dateModified"], started, datetime.now(UTC))
        return result if isinstance(result, dict) else {}

    def _observe_zone(self, stamp: str, started: datetime, finished: datetime) -> None:
        """A record written just now carries the account's clock: its modification time, read in the configured
        zone, must fall within the write (give or take `ZONE_TOLERANCE` of clock skew and minute precision)."""
        try:
            instant = to_utc(stamp, self.zone)
        except ValueError:
            return
        if started - ZONE_TOLERANCE <= instant <= finished + ZONE_TOLERANCE:
            return
        wall = datetime.fromisoformat(stamp.strip()[:19]).replace(tzinfo=UTC)
        quarters = round((wall - finished).total_seconds() / 900)
        check = ZoneMismatch(self.timezone, timedelta(minutes=15 * quarters),
                             finished.astimezone(self.zone).utcoffset() or timedelta(0), stamp, finished)
        if self.zone_mismatch is None:
            log.warning("%s", check.message(self.domain))
            self.zone_mismatch = check

    def delete_customer(self, *, id: int | None = None, my_id: str | None = None) -> None:
        """Delete a customer; one that is already gone counts as deleted (a retried delete may find nothing)."""
        given = {k: v for k, v in {"id": id, "myId": my_id}.items() if v is not None}
        if len(given) != 1:
            raise ValueError("delete_customer takes exactly one of id, my_id")
        try:
            self._call("DELETE", "customer/delete", params=given)
        except NotFoundError:
            log.info("Synchroteam customer %s was already deleted", given)

    # ------------------------------------------------------------------------------------------- invoices

    def list_invoices(
        self,
        changed_since: datetime | None = None,
        created_since: datetime | None = None,
        paid_since: datetime | None = None,
        status: str | None = None,
        customer_id: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        params = {
            "changedSince": local_filter(changed_since, self.zone) if changed_since else None,
            "createdSince": local_filter(created_since, self.zone) if created_since else None,
            "paidSince": local_filter(paid_since, self.zone) if paid_since else None,
            "status": status,
            "customerId": customer_id,
        }
        return self._paged("invoice/list", params)

    def get_invoice(self, id: int) -> dict[str, Any] | None:
        return self._details("invoice/details", {"id": id})

    # ---------------------------------------------------------------------------------------------- parts

    def list_parts(self, changed_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        return self._paged("part/list", {"changedSince": local_filter(changed_since, self.zone) if changed_since else None})

    def get_part(self, reference: str) -> dict[str, Any] | None:
        return self._details("part/details", {"reference": reference})

    def send_part(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update a part (upsert keyed by ``reference``, so retries are safe)."""
        result = self._call("POST", "part/send", body=body, idempotent=bool(body.get("reference")))
        return result if isinstance(result, dict) else {}

    # ---------------------------------------------------------------------------------------------- checks

    def test_connection(self) -> tuple[bool, str]:
        """Read one customer: proves the host, domain and API key."""
        try:
            data = self._call("GET", "customer/list", params={"page": 1, "pageSize": 1}) or {}
        except QuotaExhaustedError as err:
            return False, str(err)
        except ApiError as err:
            return False, str(err)
        except Exception as err:
            return False, f"Synchroteam connection test failed: {type(err).__name__}"
        total = data.get("recordsTotal")
        return True, f"Connected to Synchroteam account '{self.domain}' ({total if total is not None else '?'} customers)"


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _classify(resp: requests.Response) -> ApiError | None:
    if resp.status_code >= 400:
        return map_synchroteam_error(resp.status_code, resp.text, resp.headers)
    return None
