"""Matching unlinked customers, as tables: | side | id | name | email | phone |."""

from __future__ import annotations

import pandas as pd

from stqbo_sync.match import match


def frames(table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    st, qbo = [], []
    for line in table.strip().splitlines():
        side, rid, name, email, phone = [c.strip() or None for c in line.strip().strip("|").split("|")]
        row = {"name": name, "email": email, "phone": phone}
        (st if side == "st" else qbo).append({"st_id": int(rid)} | row if side == "st" else {"qbo_id": rid} | row)
    return (pd.DataFrame(st, columns=["st_id", "name", "email", "phone"]),
            pd.DataFrame(qbo, columns=["qbo_id", "name", "email", "phone"]))


def test_unique_names_link_and_the_rest_is_created() -> None:
    st, qbo = frames("""
        | st  | 1  | Cool Cars            | a@x.example |          |
        | st  | 2  | Amy's Bird Sanctuary |             |          |
        | qbo | 58 | cool cars            |             |          |
        | qbo | 59 | Amy’s Bird Sanctuary |             |          |
        | qbo | 60 | Only In QuickBooks   |             |          |
        | st  | 3  | Only In Synchroteam  |             |          |
    """)
    r = match(st, qbo)
    assert sorted(r.links) == [(1, "58", "name"), (2, "59", "name")]
    assert r.st_unmatched == [3] and r.qbo_unmatched == ["60"]
    assert r.ambiguous == []


def test_same_name_twice_is_broken_by_email_then_the_other_is_created() -> None:
    st, qbo = frames("""
        | st  | 10 | Smith Plumbing | joe@smith.example | 555-1 |
        | st  | 11 | Smith Plumbing | ann@smith.example | 555-2 |
        | qbo | 70 | Smith Plumbing | ANN@smith.example |       |
    """)
    r = match(st, qbo)
    assert r.links == [(11, "70", "name+email")]
    assert r.st_unmatched == [10]


def test_phone_breaks_the_tie_when_email_does_not() -> None:
    st, qbo = frames("""
        | st  | 10 | Smith Plumbing |  | (555) 000-1111 |
        | st  | 11 | Smith Plumbing |  | 555 000 2222   |
        | qbo | 70 | Smith Plumbing |  | 555-000-2222   |
    """)
    assert match(st, qbo).links == [(11, "70", "name+phone")]


def test_still_ambiguous_is_reported_and_nothing_is_created() -> None:
    st, qbo = frames("""
        | st  | 10 | Smith Plumbing |  |  |
        | st  | 11 | Smith Plumbing |  |  |
        | qbo | 70 | Smith Plumbing |  |  |
    """)
    r = match(st, qbo)
    assert r.links == [] and r.st_unmatched == [] and r.qbo_unmatched == []
    assert r.ambiguous == [{"key": "smith plumbing", "name": "Smith Plumbing", "st_ids": [10, 11], "qbo_ids": ["70"]}]


def test_probable_duplicates_are_warnings_only() -> None:
    st, qbo = frames("""
        | st  | 1 | Acme Inc.   | boss@acme.example |  |
        | qbo | 2 | ACME        |                   |  |
        | st  | 3 | Blue Sky    | sky@blue.example  |  |
        | qbo | 4 | Bluesky Ltd | sky@blue.example  |  |
    """)
    r = match(st, qbo)
    kinds = sorted((w["kind"], w["st_id"], w["qbo_id"]) for w in r.warnings)
    assert ("same email, different names", 3, "4") in kinds
    assert ("similar names", 1, "2") in kinds
    assert r.links == [] and sorted(r.st_unmatched) == [1, 3]


def test_a_group_reported_ambiguous_before_needs_a_tie_break_even_when_it_looks_unique() -> None:
    st, qbo = frames("""
        | st  | 10 | Smith Plumbing |  | 555-1 |
        | qbo | 70 | Smith Plumbing |  |       |
    """)
    r = match(st, qbo, strict_keys={"smith plumbing"})
    assert r.links == [] and r.st_unmatched == [] and r.qbo_unmatched == []
    assert r.ambiguous[0]["st_ids"] == [10]
    st2, qbo2 = frames("""
        | st  | 10 | Smith Plumbing |  | 555-1 |
        | qbo | 70 | Smith Plumbing |  | 5551  |
    """)
    assert match(st2, qbo2, strict_keys={"smith plumbing"}).links == [(10, "70", "name+phone")]
