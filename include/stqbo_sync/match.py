"""Matching unlinked records across the two sides, vectorised with pandas.

1. The same `names.match_key`, unique and unlinked on both sides: link.
2. Several candidates under one key: break the tie by email, then by phone; still ambiguous: report, do not guess,
   leave them unlinked (and create nothing for them).
3. No candidate: the record is created on the other side (in the directions the mode allows).
4. Probable duplicates (the same email under different names, or names equal once legal suffixes and punctuation
   are dropped) are reported as warnings; they never block anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from stqbo_sync.names import match_key

_LEGAL = re.compile(r"\b(inc|llc|ltd|limited|co|corp|corporation|company|gmbh|sarl|sas|plc)\b")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass
class MatchResult:
    links: list[tuple[int, str, str]] = field(default_factory=list)      # (st_id, qbo_id, how)
    ambiguous: list[dict[str, object]] = field(default_factory=list)    # one per key
    st_unmatched: list[int] = field(default_factory=list)
    qbo_unmatched: list[str] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)


def prepare(df: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """Add the match key and normalised email/phone used for tie-breaks to a frame of (id, name, email, phone)."""
    out = df[[id_col, "name", "email", "phone"]].copy()
    out["key"] = out["name"].map(match_key)
    out["email_n"] = out["email"].astype("string").str.strip().str.casefold().replace("", pd.NA)
    out["phone_n"] = out["phone"].astype("string").str.replace(r"\D", "", regex=True).replace("", pd.NA)
    return out[out["key"] != ""]


def match(st: pd.DataFrame, qbo: pd.DataFrame, strict_keys: set[str] | None = None) -> MatchResult:
    """``st`` has columns st_id, name, email, phone; ``qbo`` has qbo_id, name, email, phone (both unlinked only).

    Keys in ``strict_keys`` (groups reported ambiguous before) link only through an email or phone tie-break: an
    incremental run that reads one member of such a group on each side must not take it for a unique match."""
    result = MatchResult()
    s, q = prepare(st, "st_id"), prepare(qbo, "qbo_id")
    cand = s.merge(q, on="key", suffixes=("_st", "_qbo"))
    cand["n_st"] = cand.groupby("key")["st_id"].transform("nunique")
    cand["n_qbo"] = cand.groupby("key")["qbo_id"].transform("nunique")
    unique = cand[(cand["n_st"] == 1) & (cand["n_qbo"] == 1) & ~cand["key"].isin(list(strict_keys or ()))]
    result.links += [(int(a), str(b), "name") for a, b in zip(unique["st_id"], unique["qbo_id"], strict=True)]
    rest = cand.drop(unique.index)
    for crit in ("email_n", "phone_n"):
        same = rest[rest[f"{crit}_st"].notna() & (rest[f"{crit}_st"] == rest[f"{crit}_qbo"]).fillna(False)]
        same = same[~same["st_id"].duplicated(keep=False) & ~same["qbo_id"].duplicated(keep=False)]
        how = "name+" + crit.removesuffix("_n")
        result.links += [(int(a), str(b), how) for a, b in zip(same["st_id"], same["qbo_id"], strict=True)]
        rest = rest[~rest["st_id"].isin(same["st_id"]) & ~rest["qbo_id"].isin(same["qbo_id"])]
    linked_st = {a for a, _, _ in result.links}
    linked_qbo = {b for _, b, _ in result.links}
    rest = rest[~rest["st_id"].isin(linked_st) & ~rest["qbo_id"].isin(linked_qbo)]
    for key, group in rest.groupby("key"):
        result.ambiguous.append({
            "key": key, "name": group["name_st"].iloc[0],
            "st_ids": sorted(int(x) for x in group["st_id"].unique()),
            "qbo_ids": sorted(str(x) for x in group["qbo_id"].unique()),
        })
    blocked_st = set(rest["st_id"].astype(int))
    blocked_qbo = set(rest["qbo_id"].astype(str))
    result.st_unmatched = [int(x) for x in st["st_id"] if int(x) not in linked_st and int(x) not in blocked_st]
    result.qbo_unmatched = [str(x) for x in qbo["qbo_id"] if str(x) not in linked_qbo and str(x) not in blocked_qbo]
    result.warnings = probable_duplicates(s, q)
    return result


def loose_key(keys: pd.Series) -> pd.Series:
    return keys.str.replace(_LEGAL, "", regex=True).str.replace(_NON_ALNUM, "", regex=True)


MAX_GROUP = 5  # an email or loose name shared by more records than this is a placeholder, not a duplicate signal


def _small_groups(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Drop keys held by many records (e.g. a shared office@ address) so the self-joins stay linear in size."""
    df = df.dropna(subset=[col])
    return df[df.groupby(col)[col].transform("size") <= MAX_GROUP]


def probable_duplicates(s: pd.DataFrame, q: pd.DataFrame) -> list[dict[str, object]]:
    """Same email under different names, or the same name once legal suffixes and punctuation are dropped."""
    warnings: list[dict[str, object]] = []
    by_email = _small_groups(s, "email_n").merge(_small_groups(q, "email_n"), on="email_n", suffixes=("_st", "_qbo"))
    by_email = by_email[by_email["key_st"] != by_email["key_qbo"]]
    for row in by_email.itertuples():
        warnings.append({"kind": "same email, different names", "st_id": int(row.st_id), "qbo_id": str(row.qbo_id),
                         "st_name": row.name_st, "qbo_name": row.name_qbo, "email": row.email_n})
    s2, q2 = s.assign(loose=loose_key(s["key"])), q.assign(loose=loose_key(q["key"]))
    s2, q2 = s2[s2["loose"] != ""], q2[q2["loose"] != ""]
    by_loose = _small_groups(s2, "loose").merge(_small_groups(q2, "loose"), on="loose", suffixes=("_st", "_qbo"))
    by_loose = by_loose[by_loose["key_st"] != by_loose["key_qbo"]]
    for row in by_loose.itertuples():
        warnings.append({"kind": "similar names", "st_id": int(row.st_id), "qbo_id": str(row.qbo_id),
                         "st_name": row.name_st, "qbo_name": row.name_qbo})
    return warnings
