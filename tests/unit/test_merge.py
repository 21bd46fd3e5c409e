"""The three-way merge, one scenario per row: each side compared only with its own base."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from stqbo_sync.merge import merge_pairs
from stqbo_sync.model import CANON_FIELDS
from stqbo_sync.types import Mode

BASE = {f: None for f in CANON_FIELDS} | {"name": "Cool Cars", "email": "a@x.example", "phone": "555-0100",
                                          "active": True}


def pair(st: dict[str, Any], qbo: dict[str, Any], st_base: dict[str, Any] | None = BASE,
         qbo_base: dict[str, Any] | None = BASE, st_mod: str = "2026-11-25T10:00Z",
         qbo_mod: str = "2026-11-25T09:00Z") -> pd.DataFrame:
    st_cur, qbo_cur = {**BASE, **st}, {**BASE, **qbo}
    row: dict[str, Any] = {"st_id": 1, "qbo_id": "9", "has_base": st_base is not None,
                           "st_modified": pd.Timestamp(st_mod), "qbo_modified": pd.Timestamp(qbo_mod)}
    for f in CANON_FIELDS:
        row[f"{f}_st"], row[f"{f}_qbo"] = _s(st_cur[f]), _s(qbo_cur[f])
        row[f"{f}_stb"] = _s((st_base or {}).get(f))
        row[f"{f}_qbob"] = _s((qbo_base or {}).get(f))
    return pd.DataFrame([row])


def _s(v: Any) -> Any:
    return None if v is None else str(v)


@pytest.mark.parametrize(
    ("st", "qbo", "to_qbo", "to_st", "n_conflicts"),
    [
        ({}, {}, {}, {}, 0),
        ({"email": "b@x.example"}, {}, {"email": "b@x.example"}, {}, 0),
        ({}, {"phone": "555-0199"}, {}, {"phone": "555-0199"}, 0),
        ({"email": "b@x.example"}, {"phone": "555-0199"}, {"email": "b@x.example"}, {"phone": "555-0199"}, 0),
        ({"email": "same@x.example"}, {"email": "same@x.example"}, {}, {}, 0),
        ({"email": "st@x.example"}, {"email": "qbo@x.example"}, {"email": "st@x.example"}, {}, 1),
        ({"active": False}, {}, {"active": False}, {}, 0),
        ({"email": None}, {}, {"email": None}, {}, 0),
    ],
    ids=["nothing", "st-only", "qbo-only", "different-fields-merge", "same-value-both", "conflict-st-newer",
         "deactivate-st", "cleared-in-st"],
)
def test_merge_table(st: dict[str, Any], qbo: dict[str, Any], to_qbo: dict[str, Any], to_st: dict[str, Any],
                     n_conflicts: int) -> None:
    result = merge_pairs(pair(st, qbo), Mode.SYNC)
    got = result[0] if result else None
    assert (got.to_qbo if got else {}) == to_qbo
    assert (got.to_st if got else {}) == to_st
    assert (len(got.conflicts) if got else 0) == n_conflicts


def test_conflict_newer_qbo_edit_wins_and_is_logged_with_both_values() -> None:
    [m] = merge_pairs(pair({"email": "st@x.example"}, {"email": "qbo@x.example"}, qbo_mod="2026-11-25T11:00Z"), Mode.SYNC)
    assert m.to_st == {"email": "qbo@x.example"} and m.to_qbo == {}
    assert m.conflicts == [{"field": "email", "st_value": "st@x.example", "qbo_value": "qbo@x.example",
                            "winner": "qbo", "rule": "newer edit"}]


def test_conflict_tie_goes_to_synchroteam() -> None:
    [m] = merge_pairs(pair({"email": "st@x.example"}, {"email": "qbo@x.example"}, st_mod="2026-11-25T10:00Z",
                           qbo_mod="2026-11-25T10:00Z"), Mode.SYNC)
    assert m.to_qbo == {"email": "st@x.example"}


def test_normalisation_on_one_side_does_not_echo() -> None:
    """QuickBooks reformatted the phone we wrote: its base holds the reformatted value, so nothing moves."""
    qbo_base = {**BASE, "phone": "(555) 0100"}
    assert merge_pairs(pair({}, {"phone": "(555) 0100"}, qbo_base=qbo_base), Mode.SYNC) == []


def test_new_link_fills_blanks_both_ways_and_mode_decides_clashes() -> None:
    st = {"email": None, "mobile": "555-7777", "phone": "111"}
    qbo = {"email": "q@x.example", "mobile": None, "phone": "222"}
    [up] = merge_pairs(pair(st, qbo, st_base=None, qbo_base=None), Mode.UPLOAD)
    assert up.to_st == {"email": "q@x.example"}
    assert up.to_qbo == {"mobile": "555-7777", "phone": "111"}
    [down] = merge_pairs(pair(st, qbo, st_base=None, qbo_base=None), Mode.DOWNLOAD)
    assert down.to_st == {"email": "q@x.example", "phone": "222"}


@pytest.mark.parametrize(
    ("st_country", "qbo_country", "st_base", "qbo_base", "to_qbo", "to_st"),
    [
        # a new link: "United States" and QuickBooks' "USA" are one country: nothing to write either way
        ("United States", "USA", None, None, {}, {}),
        # linked: QuickBooks answered "USA" for our "United States": no change on either side, no flip
        ("United States", "USA", "United States", "USA", {}, {}),
        # a person respells it in Synchroteam: still the same country, nothing written
        ("US", "USA", "United States", "USA", {}, {}),
        # a real change of country still goes across, in Synchroteam's spelling
        ("Canada", "USA", "United States", "USA", {"country": "Canada"}, {}),
        ("United States", "CAN", "United States", "USA", {}, {"country": "CAN"}),
    ],
    ids=["new-link", "linked-echo", "respelled", "st-moves-country", "qbo-moves-country"],
)
def test_countries_are_compared_as_countries(st_country: str, qbo_country: str, st_base: str | None,
                                             qbo_base: str | None, to_qbo: dict[str, Any],
                                             to_st: dict[str, Any]) -> None:
    based = st_base is not None
    frame = pair({"country": st_country}, {"country": qbo_country},
                 {**BASE, "country": st_base} if based else None, {**BASE, "country": qbo_base} if based else None)
    merged = merge_pairs(frame, Mode.SYNC)
    assert ({k: v for k, v in merged[0].to_qbo.items()} if merged else {}) == to_qbo
    assert ({k: v for k, v in merged[0].to_st.items()} if merged else {}) == to_st
