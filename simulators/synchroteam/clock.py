"""The simulator clock, the account's time zone and Synchroteam's date formats.

Everything time-dependent (timestamps, rate windows, the daily quota) reads this clock so tests can move time
forward with ``POST /_sim/clock`` instead of sleeping. The clock runs in UTC and every stored timestamp is a UTC
instant at full precision; the account's IANA time zone only applies at the edges, as on the real service, which
shows and reads date-times as the account's local wall time with no zone (facts file, row S1):

- responses render an instant as local `yyyy-MM-dd HH:mm`;
- filters (`changedSince`, `createdSince`, `paidSince`) are local wall times turned into instants;
- seeds and UI edits give local wall times too (the API's own JSON), or an explicit `Z`/offset.

A local wall time does not always name exactly one instant: in the hour repeated when clocks go back it names two,
in the hour skipped when they go forward it names none. Filters take the reading hardest on a client: a lower
bound ("since") is read as the LATEST instant the wall time can mean, an upper bound as the earliest, so a client
that sends an ambiguous or skipped local time gets fewer rows, never more. Python's `fold` gives both readings:
for a repeated time fold=0 is the first pass (earlier instant) and fold=1 the second; for a skipped time fold=0
applies the offset from before the change, which lands after the gap (02:30 on a spring-forward day in New York
is 03:30 EDT) and fold=1 the one after it, which lands before (01:30 EST).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulators.synchroteam.errors import bad_request

# The demo account's zone and the default of every account created without one (issue 12).
DEFAULT_TIMEZONE = "America/New_York"

# Filters are documented as `yyyy-MM-dd HH:mm:ss`; a bare date means midnight. Nothing else is accepted
# (no `T`, no `Z`, no offset): the stricter reading of an UNCONFIRMED detail.
_FILTER_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$")
_FILTER_HINT = "Expected format yyyy-MM-dd HH:mm:ss (the account's local time)."
_SEED_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


class Clock:
    """Real UTC time plus an offset that only the admin API moves."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds

    def reset(self) -> None:
        self.offset_seconds = 0.0


def parse_zone(raw: object) -> ZoneInfo:
    """An IANA zone name (`America/Los_Angeles`, `Asia/Tokyo`, `UTC`); anything else is a 400."""
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request("'timezone' must be an IANA time zone name such as 'America/New_York'")
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_request(f"'timezone' '{raw}' is not a known IANA time zone") from exc


def format_minute(value: datetime | None, zone: ZoneInfo) -> str | None:
    """Response timestamps: local wall time at minute precision, no zone, as the real API shows them."""
    return None if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def format_day(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def format_local_seconds(value: datetime, zone: ZoneInfo) -> str:
    """A local time in the filters' own format (admin answers, so tests can build a filter from it)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def readings(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a naive local wall time can mean, earliest first (equal outside DST changes)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return (first, second) if first <= second else (second, first)


def parse_filter_date(name: str, raw: str, zone: ZoneInfo, upper: bool = False) -> datetime:
    """A filter in the account's local time, as an instant; anything but `yyyy-MM-dd[ HH:mm:ss]` is a 400.

    Lower bounds take the latest reading of an ambiguous or skipped time, upper bounds the earliest (see the
    module docstring): the reading that returns fewer rows.
    """
    match = _FILTER_RE.match(raw)
    if not match:
        raise bad_request(f"Invalid value for '{name}': '{raw}'. {_FILTER_HINT}")
    year, month, day, hour, minute, second = (int(p) if p is not None else 0 for p in match.groups())
    try:
        wall = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise bad_request(f"Invalid value for '{name}': '{raw}' ({exc}). {_FILTER_HINT}") from exc
    earliest, latest = readings(wall, zone)
    return earliest if upper else latest


def parse_seed_datetime(name: str, raw: object, zone: ZoneInfo) -> datetime:
    """Seeds and UI edits: a local wall time (minute or second precision, `T` accepted), or an explicit instant.

    A naive value is the account's local time, like every date-time of the API's JSON; in a repeated hour it is
    the first pass (fold=0), in a skipped hour it is shifted forward by the gap. A value with `Z` or an offset
    (`2026-11-01T01:30:00-05:00`) names its instant exactly: the way to seed a record in the second pass of a
    repeated hour.
    """
    if not isinstance(raw, str):
        raise bad_request(f"'{name}' must be a date string")
    text = raw.strip()
    for fmt in _SEED_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise bad_request(f"'{name}' is not a date: '{raw}'") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=zone).astimezone(UTC)


def parse_seed_day(name: str, raw: object, zone: ZoneInfo) -> date:
    """A calendar day (`dateDue`): the local date of the given value."""
    return parse_seed_datetime(name, raw, zone).astimezone(zone).date()


def next_utc_midnight(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
