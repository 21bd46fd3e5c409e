"""Names: the key used to match customers across the two sides, and QuickBooks' DisplayName rules.

QuickBooks DisplayName must be unique across customers, vendors and employees (inactive ones included), at most
500 characters, with no colon, tab or newline. Synchroteam names have no such rule, so two Synchroteam customers
may share a name: the second one gets a deterministic suffix ``Name (ST <id>)``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import pycountry

DELETED_SUFFIX = " (deleted)"
QBO_DISPLAY_NAME_MAX = 500
QBO_MAX_LENGTHS: dict[str, int] = {
    "DisplayName": QBO_DISPLAY_NAME_MAX,
    "CompanyName": 100,
    "GivenName": 100,
    "FamilyName": 100,
    "PrimaryEmailAddr.Address": 100,
    "PrimaryPhone.FreeFormNumber": 21,   # the XSD's 21, stricter than the docs' 30
    "Mobile.FreeFormNumber": 21,
    "Fax.FreeFormNumber": 21,
    "BillAddr.Line1": 500,
    "BillAddr.Line2": 500,
    "BillAddr.City": 255,
    "BillAddr.CountrySubDivisionCode": 255,
    "BillAddr.PostalCode": 30,
    "BillAddr.Country": 255,
}

_PUNCT_VARIANTS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_FORBIDDEN = re.compile(r"[:\t\r\n]+")
_SPACES = re.compile(r"\s+")
_DELETED = re.compile(r"\s*\(deleted\)\s*$", re.IGNORECASE)


def strip_deleted_suffix(name: str) -> str:
    return _DELETED.sub("", name)


def match_key(name: str | None) -> str:
    """The key two names must share to be the same customer: case, repeated whitespace, a trailing " (deleted)",
    punctuation variants (curly quotes, dashes, "&" vs "and") and a colon written as QuickBooks cannot store it."""
    if not name:
        return ""
    text = unicodedata.normalize("NFC", name).translate(_PUNCT_VARIANTS)
    text = strip_deleted_suffix(text)
    text = _FORBIDDEN.sub(" ", text).replace("&", " and ")
    text = re.sub(r"[.,;\-]+", " ", text)   # also the " - " that `qbo_safe_name` writes for a colon
    return _SPACES.sub(" ", text).strip().casefold()


def qbo_safe_name(name: str) -> str:
    """Make a name storable as a DisplayName: no colon/tab/newline (a colon becomes " -"), within 500 chars."""
    text = _FORBIDDEN.sub(lambda m: " -" if ":" in m.group(0) else " ", name)
    text = _SPACES.sub(" ", text).strip()
    return text[:QBO_DISPLAY_NAME_MAX].rstrip()


def unique_display_name(name: str, st_id: int | str, taken: bool) -> str:
    """The DisplayName to create for a Synchroteam customer: the safe name, or when ``taken`` (another customer,
    vendor or employee already uses it) the deterministic ``Name (ST <id>)``, still within 500 chars."""
    safe = qbo_safe_name(name)
    if not taken:
        return safe
    suffix = f" (ST {st_id})"
    return safe[: QBO_DISPLAY_NAME_MAX - len(suffix)].rstrip() + suffix


_COUNTRY_ALIASES = {"uk": "GBR", "great britain": "GBR", "england": "GBR", "scotland": "GBR", "wales": "GBR",
                    "usa": "USA", "u.s.a.": "USA", "u.s.": "USA", "america": "USA", "uae": "ARE"}


@functools.lru_cache(maxsize=4096)
def country_key(value: str | None) -> str | None:
    """A country as a country, not as text: ISO 3166 alpha-3 for any spelling pycountry knows ("United States",
    "US", "USA", "United States of America" are one country), else the text itself, trimmed and case-folded.
    QuickBooks rewrites countries to alpha-3 (real-world fact Q7); comparing keys keeps the other side's spelling
    from flipping back and forth."""
    text = " ".join((value or "").split())
    if not text:
        return None
    alias = _COUNTRY_ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_3)
    except LookupError:
        return text.casefold()
