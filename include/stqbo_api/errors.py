"""The error taxonomy shared by both APIs, and one mapping function per API from (status, body) to it.

Classes are named for what the caller must do (as stripe-python names its errors):

    ApiError
    ├ RetriableApiError      429 (retry_after), 5xx, timeouts, connection resets: the transport retries them
    └ FatalApiError          other 4xx: never retried
      ├ AuthError            401/403, QuickBooks 3200/3100: reconnect needed
      │ └ ReauthorizationRequired   OAuth invalid_grant: a person must re-authorise the app
      ├ NotFoundError        404, QuickBooks 610
      ├ ValidationError      400, QuickBooks 2000-6999: a per-record problem; log, skip, go on
      │ ├ DuplicateNameError 6240 (existing_id parsed from "Id=NNN")
      │ └ StaleObjectError   5010 (re-read, re-merge, retry)
      └ QuotaExhaustedError  Synchroteam daily quota at 0: stop until it resets

    ConfigurationError       a connection option has a value the connector cannot use: a person must fix it

This module must not import Airflow: the sync core imports it. Every text kept on an error goes through
``redact.scrub`` so that no token or key can reach a log, XCom or report through an exception.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from stqbo_api.redact import scrub

QUICKBOOKS = "quickbooks"
SYNCHROTEAM = "synchroteam"

REAUTHORISE_HINT = (
    "The QuickBooks connection must be re-authorised: run `make connect` (see docs/operating.md, "
    "'Connecting QuickBooks') to sign in to QuickBooks again and store a new refresh token, then re-run."
)


class ApiError(Exception):
    """An API call failed; the attributes keep the transport facts, ``message`` says it in plain language."""

    def __init__(
        self,
        message: str,
        *,
        api: str,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        element: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.api = api
        self.status = status
        self.code = code
        self.message = scrub(message, limit=1000) or ""
        self.detail = scrub(detail, limit=2000)
        self.element = element or None
        self.request_id = request_id
        self.body = scrub(body)
        self.trace_id = trace_id
        super().__init__(self.message)

    def __str__(self) -> str:
        facts = [f"{self.api}"]
        if self.status is not None:
            facts.append(f"HTTP {self.status}")
        if self.code:
            facts.append(f"code {self.code}")
        if self.element:
            facts.append(f"element {self.element}")
        return f"{self.message} ({', '.join(facts)})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(api={self.api!r}, status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> Any:
        # Keep errors picklable (multiprocessing, Airflow's exception handling) with all attributes.
        return (_rebuild_error, (type(self), dict(self.__dict__)))


def _rebuild_error(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class RetriableApiError(ApiError):
    """Worth retrying after a while: throttling, server trouble, a lost connection or reply.

    ``sent_nothing``: the request certainly never reached the server, so even a write that is not idempotent
    may be sent again."""

    def __init__(self, message: str, *, retry_after: float | None = None, sent_nothing: bool = False,
                 **kwargs: Any) -> None:
        self.retry_after = retry_after
        self.sent_nothing = sent_nothing
        super().__init__(message, **kwargs)


class FatalApiError(ApiError):
    """Retrying the same request cannot help."""


class AuthError(FatalApiError):
    """The credentials or the app authorisation were rejected: reconnect needed."""


class ReauthorizationRequired(AuthError):
    """The refresh token is no longer valid (OAuth ``invalid_grant``): a person must connect the app again."""


class NotFoundError(FatalApiError):
    """The object does not exist (or is inactive where QuickBooks reports it as not found)."""


class ValidationError(FatalApiError):
    """The record was rejected; other records can go on."""


class DuplicateNameError(ValidationError):
    """QuickBooks 6240: the DisplayName/Name is taken (by a customer, vendor or employee, maybe inactive)."""

    def __init__(self, message: str, *, existing_id: str | None = None, **kwargs: Any) -> None:
        self.existing_id = existing_id
        super().__init__(message, **kwargs)


class StaleObjectError(ValidationError):
    """QuickBooks 5010: the SyncToken is old; re-read, re-merge and retry."""


class QuotaExhaustedError(FatalApiError):
    """Synchroteam's daily quota is used up; calling again before it resets only wastes time."""

    def __init__(self, message: str, *, resets_at: datetime | None = None, **kwargs: Any) -> None:
        self.resets_at = resets_at
        super().__init__(message, **kwargs)


class ConfigurationError(ValueError):
    """A connection's option is unusable; the message names the option and the connection, never a value."""

    def __init__(self, message: str, *, option: str, connection: str) -> None:
        self.option = option
        self.connection = connection
        super().__init__(message)

    def __reduce__(self) -> Any:
        return (_rebuild_configuration_error, (str(self), self.option, self.connection))


def _rebuild_configuration_error(message: str, option: str, connection: str) -> ConfigurationError:
    return ConfigurationError(message, option=option, connection=connection)


# ------------------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class FaultItem:
    """One error entry of a QuickBooks Fault, whatever the spelling it came in."""

    code: str | None
    message: str | None
    detail: str | None
    element: str | None


@dataclass(frozen=True)
class Fault:
    type: str | None
    errors: tuple[FaultItem, ...]


def _lower_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in obj.items()}


def parse_quickbooks_fault(body: str | Mapping[str, Any] | None) -> Fault | None:
    """Read a ``Fault`` (JSON, either case) or an XML ``<Fault>`` from a QuickBooks body; None when absent."""
    if body is None:
        return None
    if isinstance(body, Mapping):
        return _fault_from_json(body)
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return _fault_from_json(data) if isinstance(data, Mapping) else None
    if text.startswith("<"):
        return _fault_from_xml(text)
    return None


def _fault_from_json(data: Mapping[str, Any]) -> Fault | None:
    fault = _lower_keys(data).get("fault")
    if not isinstance(fault, Mapping):
        return None
    fault_l = _lower_keys(fault)
    raw_errors = fault_l.get("error") or []
    if isinstance(raw_errors, Mapping):
        raw_errors = [raw_errors]
    items = []
    for raw in raw_errors:
        if not isinstance(raw, Mapping):
            continue
        e = _lower_keys(raw)
        code = e.get("code")
        items.append(
            FaultItem(
                code=str(code) if code not in (None, "") else None,
                message=_str_or_none(e.get("message")),
                detail=_str_or_none(e.get("detail")),
                element=_str_or_none(e.get("element")),
            )
        )
    return Fault(type=_str_or_none(fault_l.get("type")), errors=tuple(items))


def _fault_from_xml(text: str) -> Fault | None:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    fault = next((el for el in root.iter() if _local(el.tag) == "Fault"), None)
    if fault is None:
        return None
    items = []
    for err in (el for el in fault.iter() if _local(el.tag) == "Error"):
        children = {_local(c.tag): (c.text or "").strip() for c in err}
        items.append(
            FaultItem(
                code=err.get("code"),
                message=children.get("Message") or None,
                detail=children.get("Detail") or None,
                element=err.get("element") or None,
            )
        )
    return Fault(type=fault.get("type"), errors=tuple(items))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_CODE_IN_MESSAGE = re.compile(r"errorCode=0*(\d+)")
_EXISTING_ID = re.compile(r"\bId\s*=\s*(\d+)")


# ------------------------------------------------------------------------------------------- QuickBooks


def map_quickbooks_error(status: int, body: str, headers: Mapping[str, str] | None = None) -> ApiError:
    """Turn a failed QuickBooks reply (or a 200 carrying a Fault) into the taxonomy."""
    fault = parse_quickbooks_fault(body)
    first = fault.errors[0] if fault and fault.errors else None
    code = first.code if first else None
    if first and not code and first.message:
        found = _CODE_IN_MESSAGE.search(first.message)
        code = found.group(1) if found else None
    text = _quickbooks_text(first, status)
    common: dict[str, Any] = {
        "api": QUICKBOOKS,
        "status": status,
        "code": code,
        "detail": first.detail if first else None,
        "element": first.element if first else None,
        "body": body,
        "trace_id": _header(headers, "intuit_tid") or _header(headers, "Intuit-Tid"),
    }
    return _quickbooks_class(status, code, text, headers, common)


def _quickbooks_text(first: FaultItem | None, status: int) -> str:
    if first is None:
        return f"QuickBooks answered HTTP {status}"
    message = first.message or "QuickBooks error"
    if first.detail and first.detail not in message:
        return f"{message}: {first.detail}"
    return message


def _code_int(code: str | None) -> int | None:
    try:
        return int(code) if code is not None else None
    except ValueError:
        return None


def _quickbooks_class(
    status: int, code: str | None, text: str, headers: Mapping[str, str] | None, common: dict[str, Any]
) -> ApiError:
    n = _code_int(code)
    if status == 429 or n == 3001:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return RetriableApiError(f"QuickBooks throttled the request: {text}", retry_after=retry_after, **common)
    if status in (401, 403) or n in (3200, 3100, 100):
        hint = (
            "the app's access to this company was refused; check that the connection's host "
            "(sandbox or production) matches its client keys, or reconnect"
            if status == 403 or n == 3100
            else "the access token was rejected; reconnect needed if this persists"
        )
        return AuthError(f"QuickBooks authorisation failed ({text}): {hint}", **common)
    if status >= 500 or status == 408:
        return RetriableApiError(f"QuickBooks server error: {text}", **common)
    if n == 6240:
        existing = _EXISTING_ID.search(common.get("detail") or "")
        return DuplicateNameError(
            f"Duplicate name: {text}", existing_id=existing.group(1) if existing else None, **common
        )
    if n == 5010:
        return StaleObjectError(f"Stale object (SyncToken out of date): {text}", **common)
    if status == 404 or n == 610:
        return NotFoundError(f"Not found in QuickBooks: {text}", **common)
    if (n is not None and 2000 <= n <= 6999) or status == 400:
        return ValidationError(f"QuickBooks rejected the record: {text}", **common)
    if status == 200:
        # A Fault inside a 200 (batch item or the rare top-level case) is about this record.
        return ValidationError(f"QuickBooks rejected the request: {text}", **common)
    return FatalApiError(f"QuickBooks request failed: {text}", **common)


def map_oauth_error(status: int, body: str, headers: Mapping[str, str] | None = None) -> ApiError:
    """Map a reply of Intuit's token endpoint; ``invalid_grant`` means a person has to reconnect."""
    error, description = _oauth_fields(body)
    common: dict[str, Any] = {"api": QUICKBOOKS, "status": status, "code": error, "detail": description, "body": body}
    if error == "invalid_grant":
        return ReauthorizationRequired(
            f"QuickBooks refused the stored refresh token (invalid_grant: {description or 'no description'}). "
            + REAUTHORISE_HINT,
            **common,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return AuthError(
            f"QuickBooks refused the OAuth client ({error}): check the client id and secret "
            "(login/password) of the QuickBooks connection",
            **common,
        )
    if status == 429 or status >= 500:
        return RetriableApiError(
            f"QuickBooks token endpoint unavailable (HTTP {status})",
            retry_after=parse_retry_after(_header(headers, "Retry-After")),
            **common,
        )
    if status in (401, 403):
        return AuthError(f"QuickBooks token endpoint refused the request (HTTP {status})", **common)
    return FatalApiError(f"QuickBooks token refresh failed ({error or f'HTTP {status}'})", **common)


def _oauth_fields(body: str) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return None, None
    if not isinstance(data, Mapping):
        return None, None
    return _str_or_none(data.get("error")), _str_or_none(data.get("error_description"))


# ------------------------------------------------------------------------------------------ Synchroteam


def map_synchroteam_error(status: int, body: str, headers: Mapping[str, str] | None = None) -> ApiError:
    """Turn a failed Synchroteam reply into the taxonomy; a quota at 0 is fatal, not retriable."""
    text = _synchroteam_text(body) or f"HTTP {status}"
    common: dict[str, Any] = {"api": SYNCHROTEAM, "status": status, "body": body, "code": str(status)}
    if status == 429 and quota_exhausted(headers):
        return quota_error(headers, **common)
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        if retry_after is None:
            retry_after = seconds_until_reset(_header(headers, "X-RateLimit-Reset"))
        return RetriableApiError(f"Synchroteam rate limit reached: {text}", retry_after=retry_after, **common)
    if status >= 500 or status == 408:
        return RetriableApiError(f"Synchroteam server error: {text}", **common)
    if status in (401, 403):
        return AuthError(
            f"Synchroteam refused the credentials ({text}): check the domain (login) and API key (password) "
            "of the Synchroteam connection",
            **common,
        )
    if status == 404:
        return NotFoundError(f"Not found in Synchroteam: {text}", **common)
    if status in (400, 409, 422):
        return ValidationError(f"Synchroteam rejected the record: {text}", **common)
    return FatalApiError(f"Synchroteam request failed: {text}", **common)


def _synchroteam_text(body: str) -> str | None:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return (body or "").strip()[:300] or None
    if isinstance(data, Mapping):
        low = _lower_keys(data)
        for key in ("message", "error", "detail", "title"):
            if low.get(key):
                return str(low[key])
    return None


def quota_exhausted(headers: Mapping[str, str] | None) -> bool:
    """True when Synchroteam says the daily quota is used up."""
    remaining = _header(headers, "X-Quota-Remaining")
    try:
        return remaining is not None and int(float(remaining)) <= 0
    except ValueError:
        return False


def quota_resets_at(headers: Mapping[str, str] | None, now: datetime | None = None) -> datetime:
    """When the quota comes back: ``X-Quota-Reset`` if sent (Unix seconds), else the next midnight UTC."""
    now = now or datetime.now(UTC)
    raw = _header(headers, "X-Quota-Reset")
    if raw:
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def quota_error(headers: Mapping[str, str] | None, **common: Any) -> QuotaExhaustedError:
    resets = quota_resets_at(headers)
    limit = _header(headers, "X-Quota-Limit")
    common.setdefault("api", SYNCHROTEAM)
    return QuotaExhaustedError(
        f"Synchroteam's daily API quota{f' of {limit} calls' if limit else ''} is used up; "
        f"the connector stopped instead of retrying. It resets at {resets:%Y-%m-%d %H:%M} UTC; "
        "the next run after that continues where this one stopped.",
        resets_at=resets,
        **common,
    )


def seconds_until_reset(value: str | None, now: float | None = None) -> float | None:
    """``X-RateLimit-Reset`` as seconds from now; accepts Unix seconds or a small delta."""
    if not value:
        return None
    try:
        reset = float(value)
    except ValueError:
        return None
    if reset < 10_000_000:  # a delta, not an epoch
        return max(0.0, reset)
    return max(0.0, reset - (now if now is not None else time.time()))
