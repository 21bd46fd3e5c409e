"""The simulator clock and Synchroteam's date formats.

Everything time-dependent (timestamps, rate windows, the daily quota) reads this clock so tests can move time
forward with ``POST /_sim/clock`` instead of sleeping.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from simulators.synchroteam.errors import bad_request

# Filters are documented as `yyyy-MM-dd HH:mm:ss`; a bare date means midnight. Nothing else is accepted
# (no `T`, no `Z`, no offset): the stricter reading of an UNCONFIRMED detail.
_FILTER_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$")
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


def format_minute(value: datetime | None) -> str | None:
    """Response timestamps: minute precision, no zone, as the real API shows them (`2024-05-02 09:15`)."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M")


def format_day(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def parse_filter_date(name: str, raw: str) -> datetime:
    """Parse a `changedSince`-style filter; anything but `yyyy-MM-dd[ HH:mm:ss]` is a 400."""
    match = _FILTER_RE.match(raw)
    if not match:
        raise bad_request(f"Invalid value for '{name}': '{raw}'. Expected format yyyy-MM-dd HH:mm:ss (UTC).")
    parts = [int(p) if p is not None else 0 for p in match.groups()]
    try:
        year, month, day, hour, minute, second = parts
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise bad_request(
            f"Invalid value for '{name}': '{raw}' ({exc}). Expected format yyyy-MM-dd HH:mm:ss (UTC)."
        ) from exc


def parse_seed_datetime(name: str, raw: object) -> datetime:
    """Seeds and UI edits are lenient: minute or second precision, `T` separator and a trailing `Z` accepted."""
    if not isinstance(raw, str):
        raise bad_request(f"'{name}' must be a date string")
    text = raw.strip().removesuffix("Z").removesuffix("+00:00")
    for fmt in _SEED_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise bad_request(f"'{name}' is not a date: '{raw}'") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_seed_day(name: str, raw: object) -> date:
    return parse_seed_datetime(name, raw).date()


def next_utc_midnight(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
