"""diff_and_match for customers: from this run's staged records, the links and the bases, build the plan (one
typed `PlanRow` per action). Pure: no database, no HTTP.

Row actions (`types.Action`):
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stqbo_sync import mapping, match, merge
from stqbo_sync.model import CANON_FIELDS, Canon
from stqbo_sync.names import match_key, qbo_safe_name, unique_display_name
from stqbo_sync.types import Action, Mode, PlanRow, Status


@dataclass
class PlanInputs:
    mode: Mode
    st_staged: dict[int, dict[str, Any]]
    qbo_staged: dict[str, dict[str, Any]]
    links: list[tuple[int, str, bool]]
    st_bases: dict[str, dict[str, Any]]
    qbo_bases: dict[str, dict[str, Any]]
    st_zone: str                        # the Synchroteam account's IANA zone: its times are local wall times
    other_names: list[tuple[str, str, str]] = field(default_factory=list)
    st_full_read: bool = False
    ambiguous_keys: set[str] = field(default_factory=set)   # groups reported before: never guessed later


@dataclass
class Plan:
    rows: list[PlanRow] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    linked_keys: set[str] = field(default_factory=set)

    def add(self, action: Action, reason: str, st_id: int | None = None, qbo_id: str | None = None,
            payload: dict[str, Any] | None = None, status: Status = Status.PENDING,
            base_hash: str | None = None) -> None:
        self.rows.append(PlanRow(action, reason, st_id, qbo_id, payload or {}, status, base_hash))

    def add_conflicts(self, m: merge.PairMerge) -> None:
        for c in m.conflicts:
            self.conflicts.append({"st_id": m.st_id, "qbo_id": m.qbo_id, **c})


def base_hash(st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None) -> str:
    """A fingerprint of both bases a plan row was computed from (None when the pair had no base). The loader
    recomputes it before it writes: a different value means a newer run already moved the pair."""
    payload = json.dumps([st_base and st_base.get("canon"), qbo_base and qbo_base.get("canon")], sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()


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
        plan.add(Action.AMBIGUOUS, f"{n_st} Synchroteam and {n_qbo} QuickBooks customers "
                 f"named '{amb['name']}' and neither email nor phone tells them apart: link them by hand",
                 payload=amb, status=Status.INFO)
    for warning in result.warnings:
        plan.add(Action.WARNING, f"probable duplicate ({warning['kind']}): '{warning['st_name']}' / '{warning['qbo_name']}'",
                 st_id=int(str(warning["st_id"])), qbo_id=str(warning["qbo_id"]), payload=warning, status=Status.INFO)
    return plan


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
    frame = _pair_frame(pairs, [_st_modified(inp.st_staged.get(p[0])) for p in pairs],
                        [_qbo_modified(inp.qbo_staged.get(p[1])) for p in pairs], inp.st_zone)
    merged = {(m.st_id, m.qbo_id): m for m in merge.merge_pairs(frame, inp.mode)}
    for st_id, qbo_id, st_cur, qbo_cur, st_base, qbo_base in pairs:
        m = merged.get((st_id, qbo_id))
        st_moved = st_base is None or st_cur != st_base.get("canon")
        qbo_moved = qbo_base is None or qbo_cur != qbo_base.get("canon")
        if m is None and not (st_moved or qbo_moved):
            continue
        m = m or merge.PairMerge(st_id, qbo_id)
        sync_token = (inp.qbo_staged.get(qbo_id) or {}).get("SyncToken") or (qbo_base or {}).get("version")
        plan.add_conflicts(m)
        plan.add(Action.UPDATE, "changed since last sync", st_id, qbo_id,
                 pair_payload(inp.mode, m, st_cur, qbo_cur, st_base, qbo_base, sync_token),
                 base_hash=base_hash(st_base, qbo_base))


Pair = tuple[int, str, Canon, Canon, "dict[str, Any] | None", "dict[str, Any] | None"]


def _st_modified(raw: dict[str, Any] | None) -> str | None:
    return (raw or {}).get("dateModified")


def _qbo_modified(raw: dict[str, Any] | None) -> str | None:
    return ((raw or {}).get("MetaData") or {}).get("LastUpdatedTime")


def _canon_frame(records: list[Canon | None]) -> pd.DataFrame:
    return pd.DataFrame.from_records([r or {} for r in records], columns=list(CANON_FIELDS)).astype("string")


def _pair_frame(pairs: list[Pair], st_mod: list[str | None], qbo_mod: list[str | None], st_zone: str
                ) -> pd.DataFrame:
    """The merge's input, built column-wise: ids, modification times (Synchroteam ``dateModified``, QuickBooks
    ``MetaData.LastUpdatedTime``, None when unknown), current values and bases of both sides."""
    ids = pd.DataFrame({
        "st_id": [p[0] for p in pairs], "qbo_id": [p[1] for p in pairs],
        "has_base": [p[4] is not None and p[5] is not None for p in pairs],
        "st_modified": st_instants(st_mod, st_zone),
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


def st_instants(stamps: list[str | None], zone: str) -> pd.Series:
    """Synchroteam modification times (the account's local wall time, minute precision) as UTC instants; in the
    repeated hour of a DST change the earlier instant (as `stqbo_api.synchroteam.to_utc`)."""
    local = pd.to_datetime(pd.Series(stamps, dtype=object).str.slice(0, 16), format="%Y-%m-%d %H:%M", errors="coerce")
    return local.dt.tz_localize(zone, ambiguous=np.ones(len(local), dtype=bool),
                                nonexistent="shift_forward").dt.tz_convert("UTC")


def pair_payload(mode: Mode, m: merge.PairMerge, st_cur: Canon, qbo_cur: Canon, st_base: dict[str, Any] | None,
                 qbo_base: dict[str, Any] | None, sync_token: Any) -> dict[str, Any]:
    """What `load` needs to apply a merged pair: the writes each way the mode allows, the values they were planned
    from, the bases, the fields held back by the mode, and the SyncToken the QuickBooks write must carry."""
    to_qbo, to_st = dict(m.to_qbo), dict(m.to_st)
    held: dict[str, list[str]] = {"st": [], "qbo": []}
    if mode == Mode.UPLOAD and to_st:        # QuickBooks-side changes wait for a sync run
        held["qbo"] = sorted(to_st)
        to_st = {}
    if mode == Mode.DOWNLOAD and to_qbo:
        held["st"] = sorted(to_qbo)
        to_qbo = {}
    return {"to_qbo": to_qbo, "to_st": to_st, "st_canon": st_cur, "qbo_canon": qbo_cur,
            "qbo_sync_token": None if sync_token is None else str(sync_token),
            "st_base": (st_base or {}).get("canon"), "qbo_base": (qbo_base or {}).get("canon"),
            "held": held, "conflicts": m.conflicts}


def _plan_st_deleted(inp: PlanInputs, plan: Plan, st_id: int, qbo_id: str, qbo_canon: dict[str, Canon],
                     st_base: dict[str, Any] | None, qbo_base: dict[str, Any] | None) -> None:
    if inp.mode == Mode.DOWNLOAD:
        plan.add(Action.SKIP, "deleted in Synchroteam; a download does not change QuickBooks", st_id, qbo_id,
                 status=Status.INFO)
        return
    current = qbo_canon.get(qbo_id) or (qbo_base or {}).get("canon") or {}
    plan.add(Action.DEACTIVATE_QBO, "deleted in Synchroteam (not found by the full read)", st_id, qbo_id,
             {"was_active": bool(current.get("active", True))}, base_hash=base_hash(st_base, qbo_base))


# ----------------------------------------------------------------------------------------------- new links


@dataclass(frozen=True)
class NewLink:
    """A pair linked just now, by matching (`build`) or by a look-before-create in the loader. It has no bases
    yet: its first merge fills blanks from the other side and lets the mode decide where both hold a value."""

    st_id: int
    qbo_id: str
    st_canon: Canon
    qbo_canon: Canon
    qbo_modified: str | None = None     # QuickBooks MetaData.LastUpdatedTime
    qbo_sync_token: str | None = None   # the SyncToken the QuickBooks write must carry
    st_modified: str | None = None      # Synchroteam dateModified, when known

    @classmethod
    def from_qbo(cls, st_id: int, st_canon: Canon, qbo_obj: dict[str, Any],
                 st_modified: str | None = None) -> NewLink:
        """From the raw QuickBooks customer as the API returns it."""
        return cls(st_id, str(qbo_obj["Id"]), st_canon, mapping.qbo_to_canon(qbo_obj), _qbo_modified(qbo_obj),
                   qbo_obj.get("SyncToken") or None, st_modified)


def merge_new_links(mode: Mode, links: Sequence[NewLink], st_zone: str
                    ) -> list[tuple[merge.PairMerge, dict[str, Any]]]:
    """The first merge of each new link, in order: what the merge decided and the payload the loader applies
    (`pair_payload`, without bases). Vectorised: the plan merges thousands of new links at once."""
    if not links:
        return []
    frame = _pair_frame([(n.st_id, n.qbo_id, n.st_canon, n.qbo_canon, None, None) for n in links],
                        [n.st_modified for n in links], [n.qbo_modified for n in links], st_zone)
    merged = {(m.st_id, m.qbo_id): m for m in merge.merge_pairs(frame, mode)}
    out = []
    for n in links:
        m = merged.get((n.st_id, n.qbo_id), merge.PairMerge(n.st_id, n.qbo_id))
        out.append((m, pair_payload(mode, m, n.st_canon, n.qbo_canon, None, None, n.qbo_sync_token)))
    return out


def merge_new_link(mode: Mode, link: NewLink, st_zone: str) -> tuple[merge.PairMerge, dict[str, Any]]:
    """`merge_new_links` for one pair (the loader's adoption of a same-name record)."""
    return merge_new_links(mode, [link], st_zone)[0]


def _plan_links(inp: PlanInputs, plan: Plan, result: match.MatchResult, st_canon: dict[int, Canon],
                qbo_canon: dict[str, Canon]) -> None:
    links = [NewLink(s, q, st_canon[s], qbo_canon[q], _qbo_modified(inp.qbo_staged.get(q)),
                     (inp.qbo_staged.get(q) or {}).get("SyncToken") or None, _st_modified(inp.st_staged.get(s)))
             for s, q, _ in result.links]
    no_bases = base_hash(None, None)
    for (s, q, how), (m, payload) in zip(result.links, merge_new_links(inp.mode, links, inp.st_zone), strict=True):
        plan.add_conflicts(m)
        plan.add(Action.LINK, f"same {how.replace('+', ' and ')} on both sides", s, q, payload | {"how": how},
                 base_hash=no_bases)


# ----------------------------------------------------------------------------------------------- creates


AMBIGUOUS_NOT_CREATED = ("'{name}' belongs to a name group reported as ambiguous: not created until a person "
                         "tells the records apart")


def _plan_creates(inp: PlanInputs, plan: Plan, result: match.MatchResult, st_canon: dict[int, Canon],
                  qbo_canon: dict[str, Canon]) -> None:
    if inp.mode in (Mode.SYNC, Mode.UPLOAD):
        _plan_creates_qbo(inp, plan, result.st_unmatched, st_canon, qbo_canon)
    if inp.mode in (Mode.SYNC, Mode.DOWNLOAD):
        _plan_creates_st(inp, plan, result.qbo_unmatched, qbo_canon)


def _plan_creates_qbo(inp: PlanInputs, plan: Plan, unmatched: list[int], st_canon: dict[int, Canon],
                      qbo_canon: dict[str, Canon]) -> None:
    """New Synchroteam customers; a DisplayName already used by a customer, vendor or employee (or by an earlier
    create of this plan) gets the deterministic ``(ST <id>)`` suffix."""
    taken = {qbo_safe_name(c["name"] or "").casefold() for c in qbo_canon.values()}
    taken |= {(raw.get("DisplayName") or "").strip().casefold() for raw in inp.qbo_staged.values()}
    taken |= {qbo_safe_name(name).casefold() for _, _, name in inp.other_names}
    for st_id in sorted(unmatched):
        canon = st_canon[st_id]
        if match_key(canon["name"]) in inp.ambiguous_keys:
            plan.add(Action.AMBIGUOUS, AMBIGUOUS_NOT_CREATED.format(name=canon["name"]), st_id, status=Status.INFO)
            continue
        if not canon["active"]:
            plan.add(Action.SKIP, "inactive in Synchroteam and never synced: not created", st_id, status=Status.INFO)
            continue
        display = ""
        if canon["name"]:
            safe = qbo_safe_name(canon["name"])
            display = unique_display_name(canon["name"], st_id, safe.casefold() in taken)
            taken.add(display.casefold())
        plan.add(Action.CREATE_QBO, "new in Synchroteam", st_id, payload={
            "canon": canon, "display_name": display, "st_modified": _st_modified(inp.st_staged.get(st_id))})


def _plan_creates_st(inp: PlanInputs, plan: Plan, unmatched: list[str], qbo_canon: dict[str, Canon]) -> None:
    for qbo_id in sorted(unmatched, key=lambda x: (len(x), x)):
        canon = qbo_canon[qbo_id]
        if match_key(canon["name"]) in inp.ambiguous_keys:
            plan.add(Action.AMBIGUOUS, AMBIGUOUS_NOT_CREATED.format(name=canon["name"]), qbo_id=qbo_id,
                     status=Status.INFO)
            continue
        if not canon["active"]:
            plan.add(Action.SKIP, "inactive in QuickBooks and never synced: not created", qbo_id=qbo_id,
                     status=Status.INFO)
            continue
        plan.add(Action.CREATE_ST, "new in QuickBooks", qbo_id=qbo_id,
                 payload={"canon": canon, "qbo_sync_token": str(inp.qbo_staged[qbo_id].get("SyncToken", ""))})
