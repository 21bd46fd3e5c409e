"""Shared building blocks of the QuickBooks simulator: the movable clock, QBO time formats and faults.

QuickBooks writes every timestamp in US Pacific time with an explicit offset; the simulator clock can be
moved forward through `/_sim/clock` so tests never sleep to expire tokens or roll rate windows.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
QBO_VERSION = "1944.190"


@dataclass
class Leniency:
    """Debugging switches that bring back older, friendlier behaviour; all off by default (real QuickBooks).

    One instance per simulator, shared by every realm; `/_sim/reset` turns every switch off again.
    """

    duplicate_name_with_id: bool = False   # 6240 Detail ends with "Id=<holder>" (real QBO often omits it)
    order_by_id: bool = False              # queries without ORDERBY in Id order (real QBO: by name)
    no_per_second_limit: bool = False      # ignore the 10 requests/second throttle
    countries_as_sent: bool = False        # keep BillAddr/ShipAddr Country as sent (real QBO: ISO alpha-3)
    void_keeps_note: bool = False          # void prefixes "Voided - " to the note (real QBO: replaces it)

    def as_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)


class Clock:
    """Wall clock plus an offset that only moves forward on request."""

    def __init__(self) -> None:
        self.offset = 0.0

    def ts(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ts(), UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def qbo_time(ts: float) -> str:
    """MetaData time: seconds precision, Pacific, with offset (`2020-09-29T05:58:07-07:00`)."""
    return _qbo_second(int(ts))


@lru_cache(maxsize=4096)
def _qbo_second(second: int) -> str:
    return datetime.fromtimestamp(second, PACIFIC).isoformat(timespec="seconds")


def envelope_time(ts: float) -> str:
    """The response envelope's `time`: milliseconds, Pacific, with offset."""
    return datetime.fromtimestamp(ts, PACIFIC).isoformat(timespec="milliseconds")


def pacific_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, PACIFIC).date()


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_qbo_datetime(text: str) -> float:
    """Read a query or CDC time; a value without an offset is taken as Pacific (the documented guess)."""
    value = text.strip()
    if _DATE_RE.match(value):
        return datetime.fromisoformat(value + "T00:00:00").replace(tzinfo=PACIFIC).timestamp()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PACIFIC)
    return parsed.timestamp()


def is_date(text: Any) -> bool:
    if not isinstance(text, str) or not _DATE_RE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def money(value: Decimal | float | int) -> float:
    """Round half-up to cents and hand back a JSON number, as QBO's amounts are."""
    quantized = dec(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return float(quantized)


def dec(value: Any) -> Decimal:
    """A JSON number as a Decimal; anything else is the 2010 a Jackson parse failure gives."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise bad_property(f"Cannot deserialize a number from {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise bad_property(f"Cannot deserialize a number from {value!r}") from exc
    if not number.is_finite():
        raise bad_property(f"Cannot deserialize a number from {value!r}")
    return number


class QboFault(Exception):
    """A QuickBooks `Fault` answer (HTTP 400 unless said otherwise)."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type

    def fault(self) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Error": [error], "type": self.fault_type}


INACTIVE_DETAIL = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


def not_found() -> QboFault:
    return QboFault("610", "Object Not Found", f"Object Not Found : {INACTIVE_DETAIL}")


def invalid_ref(element: str) -> QboFault:
    return QboFault("2500", "Invalid Reference Id", f"Invalid Reference Id : {element}", element)


def required(element: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def bad_length(element: str, maximum: int, supplied: int) -> QboFault:
    return QboFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} supported. "
        f"Supplied length:{supplied}",
        element,
    )


def bad_chars(element: str) -> QboFault:
    """Colon, tab or newline in a name field; the code is the 2050 family the issue names."""
    return QboFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"{element} cannot contain a colon (:), a tab or a new line.",
        element,
    )


def bad_property(detail: str, element: str = "") -> QboFault:
    return QboFault("2010", "Request has invalid or unsupported property", f"Property Name:{detail}", element)


def invalid_id(value: Any) -> QboFault:
    return QboFault("2030", "Invalid ID", f"Id should be a valid number. Supplied value:{value}", "Id")


def stale() -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and Simulated User were working on this at the same time. "
        "Simulated User finished before you did, so your work was not saved.",
    )


def business(text: str, element: str = "") -> QboFault:
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {text}",
        element,
    )


DUPLICATE_NAME_DETAIL = (
    "The name supplied already exists. : "
    "Another customer, vendor or employee is already using this name. Please use a different name."
)


def duplicate_name(existing_id: str | None) -> QboFault:
    """6240: real QuickBooks often leaves the holder's Id out of the Detail (facts Q1); items keep it."""
    if existing_id is None:
        return QboFault("6240", "Duplicate Name Exists Error", DUPLICATE_NAME_DETAIL)
    return QboFault("6240", "Duplicate Name Exists Error", f"The name supplied already exists. : Id={existing_id}")


def unsupported(path: str) -> QboFault:
    return QboFault(
        "500",
        "Unsupported Operation",
        f"Operation Could not find resource for relative : {path} of full path: {path} is not supported.",
    )


def parse_error(text: str) -> QboFault:
    return QboFault("4000", "Error parsing query", f"QueryParserError: {text}")


def query_invalid(text: str) -> QboFault:
    return QboFault("4001", "Invalid query", f"QueryValidationError: {text}")


def system_fault(status: int = 500) -> dict[str, Any]:
    error = {
        "Message": "An application error has occurred while processing your request",
        "Detail": "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        "code": "10000",
        "element": "",
    }
    return {"Fault": {"Error": [error], "type": "SystemFault"}}


def gateway_fault(code: str, message: str, detail: str | None, fault_type: str, ts: float) -> dict[str, Any]:
    """The lowercase gateway body recorded for 401 (and used for 403 and 429)."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [{"message": message, "detail": detail, "code": code, "element": None}],
            "type": fault_type,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(ts * 1000),
        "status": None,
        "cdcresponse": [],
    }


def coreplus_blocked(cap: int, month: str, ts: float) -> dict[str, Any]:
    """An app past its monthly CorePlus allowance: every read is refused until next month (facts Q4).

    The real wire form is not documented; a gateway 403 whose detail says what happened is the assumption.
    """
    detail = (f"CorePlus API call limit reached: this app has made its {cap} CorePlus (data-out) calls for {month}; "
              "queries, reads, CDC and reports are blocked until next month. Core (write) calls still work.")
    return gateway_fault("3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                         detail, "SERVICE", ts)


def throttle_body() -> dict[str, Any]:
    return {
        "fault": {
            "error": [
                {
                    "message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                    "detail": "The request limit was reached.  Try again later",
                    "code": "3001",
                }
            ],
            "type": "SERVICE",
        }
    }
