"""The three-way merge with a base per side, vectorised with pandas. Where a conflict is decided: `decide`.

For every linked pair each side is compared only with its own base (what that side last returned):
- a field changed on one side only is written to the other side;
- changed on both sides to the same value: nothing to do;
- changed on both sides to different values: a conflict, decided by `decide` (default: the newer edit by that
  side's own modification time wins, ties go to Synchroteam) and logged with both values;
- fields changed on different sides merge.
A pair linked in this run has no base yet: blanks are filled from the other side, and where both hold different
values the mode's side wins (upload: Synchroteam, download: QuickBooks, sync: the newer edit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from stqbo_sync.model import CANON_FIELDS, Canon
from stqbo_sync.names import country_key, match_key
from stqbo_sync.types import Mode


@dataclass
class PairMerge:
    """What the merge decided for one linked pair."""

    st_id: int
    qbo_id: str
    to_qbo: Canon = field(default_factory=dict)
    to_st: Canon = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a.fillna("\0") == b.fillna("\0")).astype(bool)


def decide(st_newer_or_tie: pd.Series, mode: Mode) -> pd.Series:
    """The conflict policy: True where Synchroteam's value wins."""
    if mode == Mode.UPLOAD:
        return pd.Series(True, index=st_newer_or_tie.index)
    if mode == Mode.DOWNLOAD:
        return pd.Series(False, index=st_newer_or_tie.index)
    return st_newer_or_tie


def merge_pairs(pairs: pd.DataFrame, mode: Mode) -> list[PairMerge]:
    """Merge linked pairs.

    ``pairs`` has one row per pair with columns ``st_id``, ``qbo_id``, ``has_base`` (bool), ``st_modified``,
    ``qbo_modified`` (UTC timestamps, may be NaT) and, for each canonical field f, ``f_st`` / ``f_qbo`` (current
    values; for a side not read this run, its base) and ``f_stb`` / ``f_qbob`` (bases), as nullable strings.
    """
    if pairs.empty:
        return []
    pairs = pairs.reset_index(drop=True)
    has_base = pairs["has_base"].astype(bool)
    oldest = pd.Timestamp.min.tz_localize("UTC")
    st_newer = pairs["st_modified"].fillna(oldest) >= pairs["qbo_modified"].fillna(oldest)
    st_wins = decide(st_newer, mode)
    st_ids, qbo_ids = pairs["st_id"].to_numpy(), pairs["qbo_id"].to_numpy()
    wins = st_wins.to_numpy()
    based = has_base.to_numpy()
    results: dict[int, PairMerge] = {}

    def get(i: int) -> PairMerge:
        if i not in results:
            results[i] = PairMerge(int(st_ids[i]), str(qbo_ids[i]))
        return results[i]

    for f in CANON_FIELDS:
        st, qbo, stb, qbob = pairs[f"{f}_st"], pairs[f"{f}_qbo"], pairs[f"{f}_stb"], pairs[f"{f}_qbob"]
        # compared as what they mean: a country by its ISO code, so "United States" and QuickBooks' "USA" agree
        cst, cqbo, cstb, cqbob = (_countries(c) for c in (st, qbo, stb, qbob)) if f == "country" else (st, qbo, stb, qbob)
        differ = ~_same(cst, cqbo)
        if f == "name":  # on a new link "cool cars" and "Cool Cars" are the same name: no conflict, no rename
            candidates = (differ & ~has_base).to_numpy().nonzero()[0]
            if len(candidates):
                keys_differ = [match_key(_text(st.iat[i])) != match_key(_text(qbo.iat[i])) for i in candidates]
                differ = differ.copy()
                differ.iloc[candidates] = keys_differ
        st_changed = ~_same(cst, cstb) & has_base
        qbo_changed = ~_same(cqbo, cqbob) & has_base
        # new links: fill blanks from the other side, decide where both hold a value
        fill_qbo = ~has_base & differ & st.notna() & qbo.isna()
        fill_st = ~has_base & differ & qbo.notna() & st.isna()
        both_new = ~has_base & differ & st.notna() & qbo.notna()
        conflict = ((st_changed & qbo_changed & differ) | both_new).to_numpy()
        to_qbo = ((st_changed & ~qbo_changed & differ) | fill_qbo).to_numpy() | (conflict & wins)
        to_st = ((qbo_changed & ~st_changed & differ) | fill_st).to_numpy() | (conflict & ~wins)
        st_vals, qbo_vals = st.to_numpy(dtype=object, na_value=None), qbo.to_numpy(dtype=object, na_value=None)
        for i in to_qbo.nonzero()[0]:
            get(i).to_qbo[f] = _value(f, st_vals[i])
        for i in to_st.nonzero()[0]:
            get(i).to_st[f] = _value(f, qbo_vals[i])
        for i in conflict.nonzero()[0]:
            get(i).conflicts.append({
                "field": f, "st_value": _value(f, st_vals[i]), "qbo_value": _value(f, qbo_vals[i]),
                "winner": "st" if wins[i] else "qbo",
                "rule": _rule(mode, bool(based[i])),
            })
    return [results[i] for i in sorted(results)]


def _countries(values: pd.Series) -> pd.Series:
    return values.map(lambda v: country_key(_text(v)), na_action="ignore").astype("string")


def _rule(mode: Mode, based: bool) -> str:
    """Why the winner won, as the conflict log shows it."""
    if not based:
        return f"new link, {mode}"
    return "newer edit" if mode == Mode.SYNC else f"mode {mode}"


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)


def _value(field_name: str, value: Any) -> Any:
    if value is pd.NA or value is None:
        return None
    if field_name == "active":
        return str(value) == "True"
    return str(value)
