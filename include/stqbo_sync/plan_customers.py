"""diff_and_match: from this run's staged records, the links and the bases, build the plan (one row per action).

Row actions:
- ``link``        link an unlinked pair found by `match`, then apply the first merge (payload: writes both ways)
- ``update``      a linked pair where a side changed: writes to the other side (possibly none) and new bases
- ``create_qbo``  a Synchroteam customer with no counterpart: create it in QuickBooks
- ``create_st``   a QuickBooks customer with no counterpart: create it in Synchroteam
- ``deactivate_qbo`` a linked Synchroteam customer that was deleted: deactivate its QuickBooks customer
- ``ambiguous`` / ``skip`` / ``warning``: nothing to execute; reported (status ``info``)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from stqbo_sync import mapping, match, merge
from stqbo_sync.model import CANON_FIELDS, Canon
from stqbo_sync.names import match_key, qbo_safe_name, unique_display_name

UPLOAD, DOWNLOAD, SYNC = "upload", "download", "sync"


@dataclass
class PlanInputs:
    mode: str
    st_staged: dict[int, dict[str, Any]]
    qbo_staged: dict[str, dict[str, Any]]
    links: list[tuple[int, str, bool]]
    st_bases: dict[str, dict[str, Any]]
    qbo_bases: dict[str, dict[str, Any]]
    other_names: list[tuple[str, str, str]] = field(default_factory=list)
    st_full_read: bool = False
    ambiguous_keys: set[str] = field(default_factory=set)   # groups reported before: never guessed later


@dataclass
class Plan:
    rows: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    linked_keys: set[str] = field(default_factory=set)

    def add(self, action: str, reason: str, st_id: int | None = None, qbo_id: str | None = None,
            payload: dict[str, Any] | None = None, status: str = "pending", base_hash: str | None = None) -> None:
        self.rows.append({"action": action, "reason": reason, "st_id": st_id, "qbo_id": qbo_id,
                          "payload": payload or {}, "status": status, "base_hash": base_hash})


def build(inp: PlanInputs) -> Plan:
    plan = Plan()
    st_canon = {sid: mapping.st_to_canon(raw) for sid, raw in inp.st_staged.items()}
    qbo_canon = {qid: mapping.qbo_to_canon(raw) for qid, raw in inp.qbo_staged.items()}
    linked_st = {s for s, _, _ in inp.links}
    linked_qbo = {q for _, q, _ in inp.links}
    _plan_linked(inp, plan, st_canon, qbo_canon)
    st_free = {s: c for s, c in st_canon.items() if s not in linked_st}
    qbo_free = {q: c for q, c in qbo_canon.items() if q not in linked_qbo}
    result = match.match(_id_frame(st_free, "st_id"), _id_frame(qbo_free, "qbo_id"), inp.ambiguous_keys)
    _plan_links(inp, plan, result, st_canon, qbo_canon)
    _plan_creates(inp, plan, result, st_canon, qbo_canon)
    plan.ambiguous = list(result.ambiguous)
    plan.linked_keys = {match_key(st_canon[s]["name"]) for s, _, _ in result.links}
    for amb in result.ambiguous:
        n_st, n_qbo = len(amb["st_ids"]), len(amb["qbo_ids"])  # type: ignore[arg-type]
        plan.add("ambiguous", f"{n_st} Synchroteam and {n_qbo} QuickBooks customers "
                 f"named '{amb['name']}' and neither email nor phone tells them apart: link them by hand",
                 payload=amb, status="info")
    for warning in result.warnings:
        plan.add("warning", f"probable duplicate ({warning['kind']}): '{warning['st_name']}' / '{warning['qbo_name']}'",
                 st_id=int(str(warning["st_id"])), qbo_id=str(warning["qbo_id"]), payload=warning, status="info")
    return plan


def base_hash(st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None) -> str:
    """A fingerprint of both bases a plan row was computed from (None when the pair had no base)."""
    payload = json.dumps([st_base and st_base.get("canon"), qbo_base and qbo_base.get("canon")], sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()


def _id_frame(records: dict[Any, Canon], id_col: str) -> pd.DataFrame:
    rows = [{id_col: k, "name": c["name"], "email": c["email"], "phone": c["phone"]} for k, c in records.items()]
    return pd.DataFrame(rows, columns=[id_col, "name", "email", "phone"])


# ----------------------------------------------------------------------------------------------- linked pairs


def _plan_linked(inp: PlanInputs, plan: Plan, st_canon: dict[int, Canon], qbo_canon: dict[str, Canon]) -> None:
    pairs: list[Pair] = []
    for st_id, qbo_id, st_deleted in inp.links:
        st_base, qbo_base = inp.st_bases.get(str(st_id)), inp.qbo_bases.get(qbo_id)
        if st_deleted:
            continue
        if inp.st_full_read and st_id not in inp.st_staged:
            _plan_st_deleted(inp, plan, st_id, qbo_id, qbo_canon, st_base, qbo_base)
            continue
        if st_id not in st_canon and qbo_id not in qbo_canon:
            continue
        st_cur = st_canon.get(st_id) or (st_base or {}).get("canon")
        qbo_cur = qbo_canon.get(qbo_id) or (qbo_base or {}).get("canon")
        if st_cur is None or qbo_cur is None:
            continue
        pairs.append((st_id, qbo_id, st_cur, qbo_cur, st_base, qbo_base))
    if not pairs:
        return
    merged = {(m.st_id, m.qbo_id): m for m in merge.merge_pairs(pair_frame(pairs, inp), inp.mode)}
    for st_id, qbo_id, st_cur, qbo_cur, st_base, qbo_base in pairs:
        m = merged.get((st_id, qbo_id))
        st_moved = st_base is None or st_cur != st_base.get("canon")
        qbo_moved = qbo_base is None or qbo_cur != qbo_base.get("canon")
        if m is None and not (st_moved or qbo_moved):
            continue
        _add_pair_action(inp, plan, "update", m or merge.PairMerge(st_id, qbo_id), st_cur, qbo_cur, st_base,
                         qbo_base, reason="changed since last sync")


Pair = tuple[int, str, Canon, Canon, "dict[str, Any] | None", "dict[str, Any] | None"]


def _canon_frame(records: list[Canon | None]) -> pd.DataFrame:
    return pd.DataFrame.from_records([r or {} for r in records], columns=list(CANON_FIELDS)).astype("string")


def pair_frame(pairs: list[Pair], inp: PlanInputs) -> pd.DataFrame:
    """The merge's input, built column-wise: ids, modification times, current values and bases of both sides."""
    st_mod = [(inp.st_staged.get(p[0]) or {}).get("dateModified") for p in pairs]
    qbo_mod = [((inp.qbo_staged.get(p[1]) or {}).get("MetaData") or {}).get("LastUpdatedTime") for p in pairs]
    ids = pd.DataFrame({
        "st_id": [p[0] for p in pairs], "qbo_id": [p[1] for p in pairs],
        "has_base": [p[4] is not None and p[5] is not None for p in pairs],
        "st_modified": pd.to_datetime(pd.Series(st_mod, dtype=object).str.slice(0, 16), format="%Y-%m-%d %H:%M",
                                      utc=True, errors="coerce"),
        # Synchroteam times have minute precision: compare QuickBooks' at the same precision (ties -> Synchroteam)
        "qbo_modified": pd.to_datetime(pd.Series(qbo_mod, dtype=object), format="ISO8601", utc=True,
                                       errors="coerce").dt.floor("min"),
    })
    parts = [ids,
             _canon_frame([p[2] for p in pairs]).add_suffix("_st"),
             _canon_frame([p[3] for p in pairs]).add_suffix("_qbo"),
             _canon_frame([(p[4] or {}).get("canon") for p in pairs]).add_suffix("_stb"),
             _canon_frame([(p[5] or {}).get("canon") for p in pairs]).add_suffix("_qbob")]
    return pd.concat(parts, axis=1)


def pair_payload(mode: str, m: merge.PairMerge, st_cur: Canon, qbo_cur: Canon, st_base: dict[str, Any] | None,
                 qbo_base: dict[str, Any] | None, sync_token: Any) -> dict[str, Any]:
    """What `load` needs to apply a merged pair: the writes each way the mode allows, the values they were planned
    from, the bases, the fields held back by the mode, and the SyncToken the QuickBooks write must carry."""
    to_qbo, to_st = dict(m.to_qbo), dict(m.to_st)
    held: dict[str, list[str]] = {"st": [], "qbo": []}
    if mode == UPLOAD and to_st:        # QuickBooks-side changes wait for a sync run
        held["qbo"] = sorted(to_st)
        to_st = {}
    if mode == DOWNLOAD and to_qbo:
        held["st"] = sorted(to_qbo)
        to_qbo = {}
    return {"to_qbo": to_qbo, "to_st": to_st, "st_canon": st_cur, "qbo_canon": qbo_cur,
            "qbo_sync_token": None if sync_token is None else str(sync_token),
            "st_base": (st_base or {}).get("canon"), "qbo_base": (qbo_base or {}).get("canon"),
            "held": held, "conflicts": m.conflicts}


def _add_pair_action(inp: PlanInputs, plan: Plan, action: str, m: merge.PairMerge, st_cur: Canon, qbo_cur: Canon,
                     st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None, reason: str,
                     extra: dict[str, Any] | None = None) -> None:
    for c in m.conflicts:
        plan.conflicts.append({"st_id": m.st_id, "qbo_id": m.qbo_id, **c})
    qbo_raw = inp.qbo_staged.get(m.qbo_id)
    sync_token = (qbo_raw or {}).get("SyncToken") or (qbo_base or {}).get("version")
    payload = pair_payload(inp.mode, m, st_cur, qbo_cur, st_base, qbo_base, sync_token) | (extra or {})
    plan.add(action, reason, m.st_id, m.qbo_id, payload, base_hash=base_hash(st_base, qbo_base))


def _plan_st_deleted(inp: PlanInputs, plan: Plan, st_id: int, qbo_id: str, qbo_canon: dict[str, Canon],
                     st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None) -> None:
    if inp.mode == DOWNLOAD:
        plan.add("skip", "deleted in Synchroteam; a download does not change QuickBooks", st_id, qbo_id, status="info")
        return
    current = qbo_canon.get(qbo_id) or (qbo_base or {}).get("canon") or {}
    plan.add("deactivate_qbo", "deleted in Synchroteam (not found by the full read)", st_id, qbo_id,
             {"was_active": bool(current.get("active", True))}, base_hash=base_hash(st_base, qbo_base))


# ----------------------------------------------------------------------------------------------- new links, creates


def _plan_links(inp: PlanInputs, plan: Plan, result: match.MatchResult, st_canon: dict[int, Canon],
                qbo_canon: dict[str, Canon]) -> None:
    if not result.links:
        return
    frame = pair_frame([(s, q, st_canon[s], qbo_canon[q], None, None) for s, q, _ in result.links], inp)
    merged = {(m.st_id, m.qbo_id): m for m in merge.merge_pairs(frame, inp.mode)}
    for s, q, how in result.links:
        m = merged.get((s, q), merge.PairMerge(s, q))
        _add_pair_action(inp, plan, "link", m, st_canon[s], qbo_canon[q], None, None,
                         reason=f"same {how.replace('+', ' and ')} on both sides", extra={"how": how})


def _plan_creates(inp: PlanInputs, plan: Plan, result: match.MatchResult, st_canon: dict[int, Canon],
                  qbo_canon: dict[str, Canon]) -> None:
    if inp.mode in (SYNC, UPLOAD):
        taken = {qbo_safe_name(c["name"] or "").casefold() for c in qbo_canon.values()}
        taken |= {(raw.get("DisplayName") or "").strip().casefold() for raw in inp.qbo_staged.values()}
        taken |= {qbo_safe_name(name).casefold() for _, _, name in inp.other_names}
        for st_id in sorted(result.st_unmatched):
            canon = st_canon[st_id]
            if match_key(canon["name"]) in inp.ambiguous_keys:
                plan.add("ambiguous", f"'{canon['name']}' belongs to a name group reported as ambiguous: not created "
                         "until a person tells the records apart", st_id, status="info")
                continue
            if not canon["active"]:
                plan.add("skip", "inactive in Synchroteam and never synced: not created", st_id, status="info")
                continue
            if not canon["name"]:
                plan.add("create_qbo", "new in Synchroteam", st_id, payload={"canon": canon, "display_name": ""})
                continue
            safe = qbo_safe_name(canon["name"])
            display = unique_display_name(canon["name"], st_id, safe.casefold() in taken)
            taken.add(display.casefold())
            plan.add("create_qbo", "new in Synchroteam", st_id, payload={"canon": canon, "display_name": display})
    if inp.mode in (SYNC, DOWNLOAD):
        for qbo_id in sorted(result.qbo_unmatched, key=lambda x: (len(x), x)):
            canon = qbo_canon[qbo_id]
            if match_key(canon["name"]) in inp.ambiguous_keys:
                plan.add("ambiguous", f"'{canon['name']}' belongs to a name group reported as ambiguous: not created "
                         "until a person tells the records apart", qbo_id=qbo_id, status="info")
                continue
            if not canon["active"]:
                plan.add("skip", "inactive in QuickBooks and never synced: not created", qbo_id=qbo_id, status="info")
                continue
            plan.add("create_st", "new in QuickBooks", qbo_id=qbo_id,
                     payload={"canon": canon, "qbo_sync_token": str(inp.qbo_staged[qbo_id].get("SyncToken", ""))})
