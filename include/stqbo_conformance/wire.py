"""Raw HTTP exchanges, for what the API clients deliberately hide from their callers.

The clients retry a 429, turn faults into exceptions, add ``ORDERBY Id`` to every query and read only the JSON;
a probe needs the status, the headers and the body as the service sent them. The wires borrow what the clients
know (the QuickBooks token store and refresh, the per-realm limits every QuickBooks request of the process
shares) and keep every exchange in a form the report can show: the request line (no credential is ever in it:
QuickBooks takes a bearer header, Synchroteam Basic auth) and a short response, scrubbed again by the report.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters

from stqbo_api.errors import QUICKBOOKS
from stqbo_api.quickbooks import MINOR_VERSION, QuickBooksClient
from stqbo_api.redact import scrub
from stqbo_api.transport import limits_for

log = logging.getLogger(__name__)

TIMEOUT = (10.0, 60.0)
SNIPPET = 600
# Response headers worth showing: the ones about limits, content and tracing (never cookies).
SHOWN_HEADERS = ("content-type", "retry-after", "intuit_tid", "qbo-version", "x-ratelimit-limit",
                 "x-ratelimit-remaining", "x-ratelimit-reset", "x-quota-limit", "x-quota-remaining", "date")
_THROTTLE_WAITS = (2.0, 5.0, 10.0, 20.0, 30.0)


@dataclass
class Exchange:
    """One request and its answer, as seen on the wire."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    headers: dict[str, str]
    text: str
    _json: Any = field(default=None, repr=False)

    @classmethod
    def of(cls, method: str, path: str, params: Mapping[str, Any], resp: requests.Response) -> Exchange:
        return cls(method, path, dict(params), resp.status_code, {k.lower(): v for k, v in resp.headers.items()},
                   resp.text)

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        if self._json is None and self.text.strip()[:1] in ("{", "["):
            try:
                self._json = json.loads(self.text)
            except ValueError:
                return None
        return self._json

    def body_snippet(self) -> Any:
        """A short body: parsed when it is small JSON, else the start of its text."""
        if len(self.text) <= SNIPPET and self.json() is not None:
            return self.json()
        return scrub(self.text, limit=SNIPPET)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def request_line(self) -> str:
        """The request as a person reads it (parameters not URL-encoded; ``minorversion`` left out)."""
        shown = "&".join(f"{k}={v}" for k, v in self.params.items() if k != "minorversion")
        return f"{self.method} {self.path}" + (f"?{shown}" if shown else "")

    def evidence(self, response: Any = None, *, headers: bool = False, note: str | None = None) -> dict[str, Any]:
        """What the report shows: the request line, the status, ``response`` (a probe's extract of the body,
        default the start of the body) and, when asked, the headers that matter."""
        item: dict[str, Any] = {"request": self.request_line, "status": self.status}
        if headers:
            item["headers"] = {k: v for k, v in self.headers.items() if k in SHOWN_HEADERS}
        item["response"] = response if response is not None else self.body_snippet()
        if note:
            item["note"] = note
        return item


class QuickBooksWire:
    """Raw calls to one QuickBooks company, with the client's tokens and (unless ``unlimited``) its limits."""

    def __init__(self, client: QuickBooksClient, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self._session = session or requests.Session()
        # room for a whole burst of concurrent requests (the throttling probe), not urllib3's default 10
        self._session.mount(client.base_url, requests.adapters.HTTPAdapter(pool_maxsize=32))
        self._sleep = sleep

    def _url(self, sub: str) -> str:
        return f"{self.client.base_url}/v3/company/{self.client.realm_id}/{sub.lstrip('/')}"

    def get(self, sub: str, params: Mapping[str, Any] | None = None, *, unlimited: bool = False,
            retry_throttle: bool = True) -> Exchange:
        """GET a company resource; a 401 refreshes the token once, a 429 waits and retries (unless told not to)."""
        query = {**(params or {}), "minorversion": MINOR_VERSION}
        shown = f"/v3/company/{{realm}}/{sub.lstrip('/')}"
        for attempt in range(len(_THROTTLE_WAITS) + 1):
            token = self.client.access_token()
            with self._slot(unlimited):
                resp = self._session.get(self._url(sub), params=query, timeout=TIMEOUT,
                                         headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
            if resp.status_code == 401 and attempt == 0:
                self.client.force_refresh(rejected=token)
                continue
            if resp.status_code == 429 and retry_throttle and attempt < len(_THROTTLE_WAITS):
                log.info("QuickBooks throttled a conformance read; waiting %.0f s", _THROTTLE_WAITS[attempt])
                self._sleep(_THROTTLE_WAITS[attempt])
                continue
            return Exchange.of("GET", shown, query, resp)
        return Exchange.of("GET", shown, query, resp)

    def query(self, statement: str, **kwargs: Any) -> Exchange:
        """A query exactly as given (no ``ORDERBY`` added, no paging)."""
        return self.get("query", {"query": statement}, **kwargs)

    @contextlib.contextmanager
    def _slot(self, unlimited: bool) -> Iterator[None]:
        if unlimited:
            yield
            return
        with limits_for(QUICKBOOKS, self.client.realm_id).slot():
            yield


def query_rows(exchange: Exchange) -> list[dict[str, Any]]:
    """The entities of a query answer (``[]`` for an empty one or a fault)."""
    data = exchange.json()
    qr = data.get("QueryResponse") if isinstance(data, dict) else None
    if not isinstance(qr, dict):
        return []
    for key, value in qr.items():
        if key not in ("startPosition", "maxResults", "totalCount") and isinstance(value, list):
            return [row for row in value if isinstance(row, dict)]
    return []


def fault_of(exchange: Exchange) -> dict[str, str | None] | None:
    """The first error of a QuickBooks fault (either spelling), or None when the answer has none."""
    data = exchange.json()
    if not isinstance(data, dict):
        return None
    fault = data.get("Fault") or data.get("fault")
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error") or fault.get("error") or []
    first = errors[0] if isinstance(errors, list) and errors else errors
    if not isinstance(first, dict):
        return {"code": None, "message": None, "detail": None}
    low = {str(k).lower(): v for k, v in first.items()}
    return {k: (None if low.get(k) in (None, "") else str(low.get(k))) for k in ("code", "message", "detail")}


class SynchroteamWire:
    """Raw calls to one Synchroteam account (Basic auth), pacing on the server's rate-limit headers."""

    def __init__(self, base_url: str, domain: str, api_key: str, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._session.auth = (domain, api_key)
        self._sleep = sleep
        self._wait_until: float | None = None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Exchange:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        shown = f"/api/v3/{path.lstrip('/')}"
        for attempt in range(4):
            self._pace()
            resp = self._session.get(self.base_url + shown, params=query, timeout=TIMEOUT,
                                     headers={"Accept": "application/json"})
            self._learn(resp)
            if resp.status_code == 429 and attempt < 3:
                wait = _seconds(resp.headers.get("Retry-After")) or 10.0
                log.info("Synchroteam rate limit reached; waiting %.0f s", min(wait, 60.0))
                self._sleep(min(wait, 60.0))
                continue
            break
        return Exchange.of("GET", shown, query, resp)

    def _pace(self) -> None:
        if self._wait_until is not None:
            wait = self._wait_until - time.time()
            if wait > 0:
                self._sleep(min(wait, 60.0))
            self._wait_until = None

    def _learn(self, resp: requests.Response) -> None:
        remaining = _seconds(resp.headers.get("X-RateLimit-Remaining"))
        reset = _seconds(resp.headers.get("X-RateLimit-Reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self._wait_until = reset if reset > 10_000_000 else time.time() + reset

    def pages(self, path: str, params: Mapping[str, Any], max_pages: int) -> tuple[list[dict[str, Any]],
                                                                                   list[Exchange], bool]:
        """Rows of a list call, at most ``max_pages`` pages of 100; also the exchanges and whether it stopped
        early (more rows left)."""
        rows: list[dict[str, Any]] = []
        exchanges: list[Exchange] = []
        for page in range(1, max_pages + 1):
            ex = self.get(path, {**params, "page": page, "pageSize": 100})
            exchanges.append(ex)
            data = ex.json()
            found = data.get("data") if isinstance(data, dict) else None
            if ex.status != 200 or not isinstance(found, list):
                return rows, exchanges, False
            rows.extend(r for r in found if isinstance(r, dict))
            total = data.get("recordsTotal")
            if len(found) < 100 or (isinstance(total, int) and page * 100 >= total):
                return rows, exchanges, False
        return rows, exchanges, True


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
