"""A QuickBooks Online Accounting API v3 client on plain ``requests`` (the Airflow hook wraps it).

Every call: ``minorversion=75``, a bearer token from the token store (refreshed shortly before it expires and
once more on a 401), the per-realm client-side limits, retries for retriable errors only, and one mapping of
status and body into ``stqbo_api.errors``. Every write carries the caller's ``requestid`` (reused on each
retry), so a create whose reply was lost is not applied twice.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from stqbo_api.errors import (
    QUICKBOOKS,
    ApiError,
    AuthError,
    FatalApiError,
    NotFoundError,
    RetriableApiError,
    map_oauth_error,
    map_quickbooks_error,
    parse_quickbooks_fault,
)
from stqbo_api.options import QuickBooksOptions
from stqbo_api.redact import register_secret
from stqbo_api.tokens import TokenSet, TokenStore, with_expiry
from stqbo_api.transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    RealmLimits,
    RetryPolicy,
    Transport,
    limits_for,
)

log = logging.getLogger(__name__)

MINOR_VERSION = "75"
DEFAULT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
BASE_URLS = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}
PAGE_SIZE = 1000
BATCH_SIZE = 30
CDC_CAP = 1000
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
MAX_BID = 10
MAX_GET_QUERY = 1500
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_PAGING_RE = re.compile(r"\b(STARTPOSITION|MAXRESULTS)\b", re.IGNORECASE)
_ORDER_RE = re.compile(r"\bORDER\s*BY\b", re.IGNORECASE)
_SELECT_STAR_RE = re.compile(r"^\s*select\s+\*\s+from\b", re.IGNORECASE)
_QUERY_META = {"startPosition", "maxResults", "totalCount"}
NAME_ENTITIES = ("Customer", "Vendor", "Employee")


def name_key(name: Any) -> str:
    """QuickBooks' uniqueness rule for DisplayName: case and leading, trailing or repeated whitespace ignored."""
    return " ".join(str(name or "").split()).casefold()


def escape_query_value(value: str) -> str:
    """Escape a value for a single-quoted literal of the QuickBooks query language.

    Intuit documents a backslash before ``'``; a backslash in the value is doubled too, so that a name ending
    in ``\\`` cannot swallow the closing quote (how real QuickBooks reads ``\\\\`` is UNCONFIRMED; names with
    backslashes are rare).
    """
    return value.replace("\\", "\\\\").replace("'", "\\'")


def validate_request_id(request_id: str, limit: int = MAX_REQUEST_ID) -> str:
    """Reject request ids QuickBooks would not accept (more than 50 characters, or 36 for a batch)."""
    if not isinstance(request_id, str) or not request_id:
        raise ValueError("a QuickBooks write needs a non-empty request id")
    if len(request_id) > limit:
        raise ValueError(f"QuickBooks request ids are at most {limit} characters; got {len(request_id)}")
    if not _REQUEST_ID_RE.match(request_id):
        raise ValueError("QuickBooks request ids may contain only letters, digits, '_', '.', ':' and '-'")
    return request_id


def environment_of(base_url: str) -> str:
    for name, url in BASE_URLS.items():
        if base_url.rstrip("/") == url:
            return name
    return "custom"


def format_qbo_datetime(value: datetime) -> str:
    """An ISO-8601 instant with an explicit offset (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


@dataclass
class CdcResult:
    """Changed objects by entity name, and the server time to use as the next watermark."""

    objects: dict[str, list[dict[str, Any]]]
    time: str
    truncated_entities: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    """The answer to one batch item: the entity name and object, or the error that item got."""

    entity: str | None
    obj: dict[str, Any] | None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class QuickBooksClient:
    """One realm of QuickBooks Online, authenticated with OAuth 2 tokens kept in a ``TokenStore``.

    ``options`` are the connection's invoice options, parsed once (``QuickBooksOptions.from_extra``); the client
    carries them so that whoever holds the client reads the same, already validated values.
    """

    def __init__(
        self,
        base_url: str | None,
        realm_id: str,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        token_url: str | None = DEFAULT_TOKEN_URL,
        *,
        initial_refresh_token: str | None = None,
        environment: str | None = None,
        options: QuickBooksOptions | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        limits: RealmLimits | None = None,
        page_size: int = PAGE_SIZE,
        refresh_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        if not realm_id:
            raise ValueError("the QuickBooks connection needs a realm_id (extra field 'realm_id')")
        if not base_url:
            base_url = BASE_URLS.get(environment or "", "")
        if not base_url:
            raise ValueError("the QuickBooks connection needs a host (API base URL) or environment sandbox/production")
        self.base_url = base_url.rstrip("/")
        self.realm_id = str(realm_id)
        self.client_id = client_id
        self.environment = environment or environment_of(self.base_url)
        self.options = options or QuickBooksOptions()
        self.token_url = token_url or DEFAULT_TOKEN_URL
        self.page_size = page_size
        self._client_secret = client_secret
        self._store = token_store
        self._initial_refresh_token = initial_refresh_token
        self._refresh_margin = refresh_margin
        for secret in (client_secret, initial_refresh_token):
            register_secret(secret)
        self._session = session or requests.Session()
        self._limits = limits or limits_for(QUICKBOOKS, self.realm_id)
        self._name_index: dict[str, dict[str, Any]] | None = None   # names of the three lists, by name_key
        policy = retry_policy or RetryPolicy()
        self._api = Transport(QUICKBOOKS, self._session, _classify_api, policy, connect_timeout, read_timeout)
        self._oauth = Transport(QUICKBOOKS, self._session, _classify_oauth, policy, connect_timeout, read_timeout)
        self._tokens: TokenSet | None = None
        self._token_lock = threading.Lock()

    @property
    def use_synchroteam_invoice_numbers(self) -> bool:
        """Shorthand for ``options.use_synchroteam_invoice_numbers``."""
        return self.options.use_synchroteam_invoice_numbers

    def __repr__(self) -> str:
        return f"QuickBooksClient(realm_id={self.realm_id!r}, environment={self.environment!r})"

    # ------------------------------------------------------------------------------------------- tokens

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def access_token(self) -> str:
        """A bearer token valid for a while: the cached one, the stored one, or a fresh one."""
        with self._token_lock:
            if self._tokens is None or not self._tokens.access_valid(self._now(), self._refresh_margin):
                stored = self._store.load(self.realm_id, self.client_id)
                if stored is not None and stored.access_valid(self._now(), self._refresh_margin):
                    self._tokens = stored
                else:
                    self._tokens = self._refresh(rejected=None)
            assert self._tokens.access_token
            return self._tokens.access_token

    def force_refresh(self, rejected: str | None) -> None:
        """Get a new access token after ``rejected`` was refused (unless another thread/process already did)."""
        with self._token_lock:
            if self._tokens is not None and self._tokens.access_token != rejected:
                return  # another thread refreshed while this one waited
            self._tokens = self._refresh(rejected=rejected)

    def _refresh(self, rejected: str | None) -> TokenSet:
        return self._store.refresh_locked(
            self.realm_id,
            self.client_id,
            self._call_token_endpoint,
            initial_refresh_token=self._initial_refresh_token,
            rejected_access_token=rejected,
            margin=self._refresh_margin,
        )

    def _call_token_endpoint(self, refresh_token: str) -> TokenSet:
        """Exchange a refresh token at Intuit's (or the simulator's) token endpoint."""
        log.info("Refreshing the QuickBooks access token for realm %s", self.realm_id)
        resp = self._oauth.request(
            "POST",
            self.token_url,
            describe="POST oauth2 token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            headers=lambda: {"Accept": "application/json"},
            auth=(self.client_id, self._client_secret),
        )
        payload = _json(resp)
        access = payload.get("access_token")
        if not access:
            raise FatalApiError("QuickBooks token endpoint answered without an access token", api=QUICKBOOKS)
        register_secret(access)
        new_refresh = payload.get("refresh_token") or refresh_token
        register_secret(new_refresh)
        tokens = TokenSet(refresh_token=new_refresh, access_token=access)
        return with_expiry(
            tokens, _num(payload.get("expires_in")), _num(payload.get("x_refresh_token_expires_in")), self._now()
        )

    # ------------------------------------------------------------------------------------------ requests

    def _url(self, path: str) -> str:
        return f"{self.base_url}/v3/company/{self.realm_id}/{path.lstrip('/')}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        text: str | None = None,
        request_id: str | None = None,
        batch: int = 0,
    ) -> dict[str, Any]:
        """One API call with a token refresh-and-retry on the first 401; returns the parsed JSON body."""
        query: dict[str, Any] = dict(params or {})
        if request_id is not None:
            query["requestid"] = request_id
        query["minorversion"] = MINOR_VERSION
        for attempt in (1, 2):
            token = self.access_token()
            try:
                resp = self._api.request(
                    method,
                    self._url(path),
                    describe=f"{method} {path.split('?')[0]}",
                    params=query,
                    json=body,
                    data=text.encode("utf-8") if text is not None else None,
                    headers=functools.partial(_api_headers, token, method, text is not None),
                    gate=lambda: self._limits.slot(batch=batch > 0, weight=max(1, batch)),
                    request_id=request_id,
                )
            except AuthError as err:
                if err.status != 401 or attempt == 2:
                    raise
                log.info("QuickBooks refused the access token (HTTP 401); refreshing once and retrying")
                self.force_refresh(rejected=token)
                continue
            return _json(resp)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------------------- queries

    def query(self, statement: str) -> Iterator[dict[str, Any]]:
        """Yield every entity the SELECT returns, page by page (the statement must not page itself). Pages are read
        in Id order unless the statement orders itself: QuickBooks' default order is by name, and offset paging by
        name over a set that changes meanwhile (a rename) skips or repeats rows; Ids never move."""
        if _PAGING_RE.search(statement):
            raise ValueError("pass the statement without STARTPOSITION/MAXRESULTS; query() pages by itself")
        ordered = statement.strip() if _ORDER_RE.search(statement) else f"{statement.strip()} ORDERBY Id"
        start = 1
        while True:
            page = f"{ordered} STARTPOSITION {start} MAXRESULTS {self.page_size}"
            rows = _query_rows(self._select(page))
            yield from rows
            if len(rows) < self.page_size:
                return
            start += len(rows)

    def _select(self, statement: str) -> dict[str, Any]:
        """GET /query, or POST with the statement as an ``application/text`` body when it is too long for a URL
        (long ``IN (...)`` lists)."""
        if len(statement) > MAX_GET_QUERY:
            return self._call("POST", "query", text=statement)
        return self._call("GET", "query", params={"query": statement})

    def count(self, statement: str) -> int:
        """``SELECT COUNT(*)`` of a statement (a ``SELECT *`` is turned into a count)."""
        stmt = _SELECT_STAR_RE.sub(lambda m: m.group(0).replace("*", "COUNT(*)", 1), statement.strip(), count=1)
        data = self._select(stmt)
        return int((data.get("QueryResponse") or {}).get("totalCount") or 0)

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CdcResult:
        """Changed objects since ``changed_since`` (at most 30 days back), completed when a reply is capped.

        A CDC reply holds at most 1000 objects across all entities. When it is full, each entity is asked
        again on its own; an entity that alone fills a reply is read with a query on LastUpdatedTime instead
        (which cannot show hard-deleted transactions: those entities are listed in ``truncated_entities``).
        The watermark is the *earliest* server time of the replies used, so nothing falls between runs.
        """
        objects, stamp = self._cdc_once(entities, changed_since)
        result = CdcResult(objects={e: list(objects.get(e, [])) for e in entities}, time=stamp)
        if sum(len(v) for v in objects.values()) < CDC_CAP:
            return result
        for entity in entities:
            rows, entity_time = self._cdc_once([entity], changed_since) if len(entities) > 1 else (objects, stamp)
            result.time = min(result.time, entity_time, key=_instant)
            found = rows.get(entity, [])
            if len(found) >= CDC_CAP:
                log.warning("CDC for %s is capped at %d objects; reading it with a query instead", entity, CDC_CAP)
                found = self._changed_by_query(entity, changed_since)
                result.truncated_entities.append(entity)
            result.objects[entity] = found
        return result

    def _cdc_once(self, entities: Sequence[str], since: datetime) -> tuple[dict[str, list[dict[str, Any]]], str]:
        data = self._call(
            "GET", "cdc", params={"entities": ",".join(entities), "changedSince": format_qbo_datetime(since)}
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for block in data.get("CDCResponse") or []:
            for qr in block.get("QueryResponse") or []:
                for key, value in qr.items():
                    if key not in _QUERY_META and isinstance(value, list):
                        found.setdefault(key, []).extend(value)
        return found, str(data.get("time") or format_qbo_datetime(self._now()))

    def _changed_by_query(self, entity: str, since: datetime) -> list[dict[str, Any]]:
        where = f"MetaData.LastUpdatedTime >= '{format_qbo_datetime(since)}'"
        if entity in NAME_ENTITIES or entity == "Item":
            where += " AND Active IN (true, false)"
        return list(self.query(f"SELECT * FROM {entity} WHERE {where} ORDERBY MetaData.LastUpdatedTime"))

    # ---------------------------------------------------------------------------------------- entities

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        """One object by Id; ``NotFoundError`` when QuickBooks has none."""
        data = self._call("GET", f"{entity.lower()}/{entity_id}")
        return _entity(data, entity)

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Create an object; the same ``request_id`` on a retry returns the first result instead of a copy."""
        data = self._call("POST", entity.lower(), body=body, request_id=validate_request_id(request_id))
        return _entity(data, entity)

    def update(self, entity: str, body: dict[str, Any], request_id: str, sparse: bool = True) -> dict[str, Any]:
        """Update an object; ``body`` needs ``Id`` and ``SyncToken`` (5010 ``StaleObjectError`` when old)."""
        if not body.get("Id") or body.get("SyncToken") is None:
            raise ValueError(f"an update of {entity} needs Id and SyncToken in the body")
        payload = {**body, "sparse": True} if sparse else {k: v for k, v in body.items() if k != "sparse"}
        data = self._call("POST", entity.lower(), body=payload, request_id=validate_request_id(request_id))
        return _entity(data, entity)

    def deactivate_customer(self, customer_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Customers cannot be deleted: make them inactive (QuickBooks adds " (deleted)" to the name)."""
        return self.deactivate("Customer", customer_id, sync_token, request_id)

    def deactivate(self, entity: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Make a name-list object (Customer, Item, Vendor...) inactive with a sparse update."""
        body = {"Id": str(entity_id), "SyncToken": str(sync_token), "Active": False}
        return self.update(entity, body, request_id, sparse=True)

    def void_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Void an invoice: it stays, with amounts at 0 (how QuickBooks 'deactivates' a transaction)."""
        return self._operation("Invoice", "void", invoice_id, sync_token, request_id)

    def delete_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Delete an invoice for good; returns ``{"status": "Deleted", "Id": ...}``."""
        return self._operation("Invoice", "delete", invoice_id, sync_token, request_id)

    def _operation(self, entity: str, operation: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        data = self._call(
            "POST", entity.lower(), params={"operation": operation},
            body={"Id": str(entity_id), "SyncToken": str(sync_token)}, request_id=validate_request_id(request_id),
        )
        return _entity(data, entity)

    def find_name_holder(self, name: str) -> dict[str, Any] | None:
        """The customer, vendor or employee (inactive included) holding ``name`` by QuickBooks' own uniqueness rule
        (case and stray whitespace ignored, `name_key`), with ``_entity`` set; None when there is none. A 6240
        often does not say who holds the name, and ``DisplayName = '...'`` is exact: an exact query first, then
        every name of the three lists once per client (metered reads, so only when the cheap way finds nothing)."""
        key = name_key(name)
        for hit in self.find_by_display_name(name):
            if name_key(hit.get("DisplayName")) == key:
                return hit
        if self._name_index is None:
            self._name_index = {}
            for entity in NAME_ENTITIES:
                for row in self.query(f"SELECT * FROM {entity} WHERE Active IN (true, false)"):
                    self._name_index.setdefault(name_key(row.get("DisplayName")), {**row, "_entity": entity})
        return self._name_index.get(key)

    def find_by_display_name(self, name: str) -> list[dict[str, Any]]:
        """Customers, vendors and employees, active or not, whose DisplayName is exactly ``name``.

        DisplayName is unique across the three, so any hit blocks a create with 6240.
        """
        found: list[dict[str, Any]] = []
        literal = escape_query_value(name)
        for entity in NAME_ENTITIES:
            stmt = f"SELECT * FROM {entity} WHERE DisplayName = '{literal}' AND Active IN (true, false)"
            found.extend({**row, "_entity": entity} for row in self.query(stmt))
        return found

    def get_preferences(self) -> dict[str, Any]:
        return _entity(self._call("GET", "preferences"), "Preferences")

    def get_company_info(self) -> dict[str, Any]:
        return _entity(self._call("GET", f"companyinfo/{self.realm_id}"), "CompanyInfo")

    # --------------------------------------------------------------------------------------------- batch

    def batch(self, items: list[dict[str, Any]], request_id_prefix: str | None = None) -> dict[str, BatchResult]:
        """Send items (each with a unique ``bId``) in requests of 30; returns ``bId -> BatchResult``.

        Item failures do not raise: they come back as ``BatchResult.error``. Transport failures of a whole
        request do raise (after retries). Chunk n is sent with request id ``<prefix>-<n>`` (at most 36
        characters; bIds at most 10), so a retried chunk is not applied twice. Pass a prefix derived from the
        caller's ledger to make a re-run of the task safe too; without one a random prefix is used.
        """
        bids = [str(item.get("bId") or "") for item in items]
        if not all(bids) or len(set(bids)) != len(bids):
            raise ValueError("every batch item needs a unique, non-empty bId")
        if any(len(b) > MAX_BID for b in bids):
            raise ValueError(f"batch bIds are at most {MAX_BID} characters (a batch always carries a request id)")
        # Without a caller's prefix a random one still makes a retried chunk (lost reply) safe within this call.
        prefix = request_id_prefix or f"stqbo-b-{uuid.uuid4().hex[:20]}"
        results: dict[str, BatchResult] = {}
        for n, start in enumerate(range(0, len(items), BATCH_SIZE)):
            chunk = items[start : start + BATCH_SIZE]
            request_id = validate_request_id(f"{prefix}-{n}", MAX_BATCH_REQUEST_ID)
            data = self._call("POST", "batch", body={"BatchItemRequest": chunk}, request_id=request_id, batch=len(chunk))
            results.update(_batch_results(data, [str(i["bId"]) for i in chunk]))
        return results

    # ------------------------------------------------------------------------------------------- checks

    def test_connection(self) -> tuple[bool, str]:
        """Read CompanyInfo: proves the host, realm, client keys, token store and refresh token all work."""
        try:
            info = self.get_company_info()
        except ApiError as err:
            return False, str(err)
        except Exception as err:  # the state DB, a bad URL: say what kind of problem it is, no secrets
            return False, f"QuickBooks connection test failed: {type(err).__name__}"
        name = info.get("CompanyName") or info.get("LegalName") or "?"
        return True, f"Connected to QuickBooks company '{name}' (realm {self.realm_id}, {self.environment})"


# ----------------------------------------------------------------------------------------------- helpers


def _api_headers(token: str, method: str, text: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if method != "GET":
        headers["Content-Type"] = "application/text" if text else "application/json"
    return headers


def _json(resp: requests.Response) -> dict[str, Any]:
    cached = resp.__dict__.get("_stqbo_json")
    if cached is not None:
        return dict(cached)
    try:
        data = resp.json()
    except ValueError:
        raise FatalApiError(
            f"QuickBooks answered HTTP {resp.status_code} with a body that is not JSON",
            api=QUICKBOOKS, status=resp.status_code, body=resp.text,
        ) from None
    return data if isinstance(data, dict) else {"value": data}


def _classify_api(resp: requests.Response) -> ApiError | None:
    if resp.status_code >= 400:
        return map_quickbooks_error(resp.status_code, resp.text, resp.headers)
    if '"Fault"' in resp.text[:2000] or "<Fault" in resp.text[:2000]:
        try:
            data = resp.json()
        except ValueError:
            return map_quickbooks_error(resp.status_code, resp.text, resp.headers)
        if isinstance(data, dict) and ("Fault" in data or "fault" in data):
            return map_quickbooks_error(resp.status_code, resp.text, resp.headers)
        resp.__dict__["_stqbo_json"] = data
    return None


def _classify_oauth(resp: requests.Response) -> ApiError | None:
    if resp.status_code >= 400:
        return map_oauth_error(resp.status_code, resp.text, resp.headers)
    return None


def _query_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    qr = data.get("QueryResponse") or {}
    for key, value in qr.items():
        if key not in _QUERY_META and isinstance(value, list):
            return list(value)
    return []


def _entity(data: Mapping[str, Any], entity: str) -> dict[str, Any]:
    obj = data.get(entity)
    if not isinstance(obj, dict):
        raise NotFoundError(f"QuickBooks answered without a {entity} object", api=QUICKBOOKS)
    return obj


def _batch_results(data: Mapping[str, Any], sent: list[str]) -> dict[str, BatchResult]:
    results: dict[str, BatchResult] = {}
    for item in data.get("BatchItemResponse") or []:
        bid = str(item.get("bId"))
        fault = parse_quickbooks_fault(item)
        if fault is not None:
            err = map_quickbooks_error(200, json.dumps({"Fault": item.get("Fault") or item.get("fault")}))
            results[bid] = BatchResult(entity=None, obj=None, error=err)
            continue
        key = next((k for k in item if k not in ("bId", "time")), None)
        obj = item.get(key) if key else None
        results[bid] = BatchResult(entity=key, obj=obj if isinstance(obj, dict) else None)
    for bid in sent:
        if bid not in results:
            results[bid] = BatchResult(
                entity=None, obj=None,
                error=RetriableApiError(f"QuickBooks returned no answer for batch item {bid}", api=QUICKBOOKS),
            )
    return results


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _instant(stamp: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
