"""A tiny HTTP client for the simulator's API, for contract tests and the benchmark (not used by the connector)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

DOMAIN = "demo"
API_KEY = "demo-api-key"
FILTER_FORMAT = "%Y-%m-%d %H:%M:%S"  # `changedSince` and the other date filters, in the account's local time
MINUTE_FORMAT = "%Y-%m-%d %H:%M"  # date-times in responses


def since(value: datetime) -> str:
    """A naive local datetime as a date filter value."""
    return value.strftime(FILTER_FORMAT)


class StClient:
    """Basic-auth calls to `/api/v3/...` on a running simulator; answers raw `requests.Response` objects."""

    def __init__(self, url: str, domain: str = DOMAIN, api_key: str = API_KEY) -> None:
        self.url = url.rstrip("/")
        self.domain = domain
        self.session = requests.Session()
        self.session.auth = (domain, api_key)
        self.session.headers["Accept"] = "application/json"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.url}/api/v3/{path.lstrip('/')}", **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.call("POST", path, json=body, params=params)

    def delete(self, path: str, **params: Any) -> requests.Response:
        return self.call("DELETE", path, params=params)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call and return the JSON body, failing loudly on anything but 200."""
        resp = self.call(method, path, **kwargs)
        if resp.status_code != 200:
            raise AssertionError(f"{method} {path} -> {resp.status_code} {resp.text}")
        return resp.json()

    def local_now(self) -> datetime:
        """The account's local wall time now (naive), from `GET /_sim/account`: what `changedSince` compares with."""
        resp = requests.get(f"{self.url}/_sim/account", params={"domain": self.domain}, timeout=30)
        resp.raise_for_status()
        return datetime.strptime(resp.json()["now"], FILTER_FORMAT)

    def list_all(self, resource: str, page_size: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """Every record of `<resource>/list`, page by page, until a page comes back empty."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.ok("GET", f"{resource}/list", params={**filters, "page": page, "pageSize": page_size})
            if not body["data"]:
                return out
            out.extend(body["data"])
            page += 1
