"""Decimal arithmetic for prices and totals: half-up rounding to cents, as an invoice printout shows them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from simulators.synchroteam.errors import bad_request

CENT = Decimal("0.01")


def to_decimal(name: str, value: object, default: Decimal | None = None) -> Decimal:
    """Numbers or numeric strings (the API shows some amounts as strings); booleans are refused."""
    if value is None:
        if default is None:
            raise bad_request(f"'{name}' is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request(f"'{name}' must be a number")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise bad_request(f"'{name}' must be a number, got '{value}'") from exc
    if not result.is_finite():
        raise bad_request(f"'{name}' must be a finite number")
    return result


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def as_number(value: Decimal) -> int | float:
    """JSON number: integral values stay integers (a quantity of 2 is `2`), others become floats."""
    return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)


def rate_text(rate: Decimal) -> str:
    """A tax rate as the parts API shows it (`"8"`, `"8.875"`)."""
    text = format(rate.normalize(), "f")
    return text
