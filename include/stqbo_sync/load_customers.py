"""load_changes for customers: execute this run's customer plan rows (`types.PlanRow`) against both APIs,
idempotently.

Each row is executed at most once to completion: its writes, its link and its new bases are committed together
with status ``done``; a re-run of the task skips done rows and retries the others. Writes are safe to repeat:
QuickBooks calls carry a ``requestid`` derived from (tenant, run, row); a QuickBooks customer create relies on
DisplayName being unique (QuickBooks refuses a second one with 6240, whose holder, if it is an unlinked customer of
that name such as our own earlier create, is adopted); Synchroteam creates look before they write (by ``myId``,
then by name); updates are sparse and carry the planned SyncToken. A row whose bases moved since it was planned (a
newer run already handled the pair) is superseded.

Edits made by people while a run is in flight are never overwritten nor swallowed: the QuickBooks write carries the
SyncToken the plan was computed from (a newer one means QuickBooks changed meanwhile: the row is superseded and the
next run, which reads the same window again, merges both edits), and a new base takes from a write's response only
the fields that were written, keeping the planned values for the rest.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from stqbo_api.errors import (
    ApiError,
    AuthError,
    DuplicateNameError,
    NotFoundError,
    QuotaExhaustedError,
    RetriableApiError,
    StaleObjectError,
)
from stqbo_api.quickbooks import name_key
from stqbo_store import audit
from stqbo_store import mapping as mapping_db
from stqbo_store import plan as plan_db
from stqbo_sync import lease, mapping, plan_customers, request_ids
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.model import Canon
from stqbo_sync.names import match_key, qbo_safe_name, unique_display_name
from stqbo_sync.types import Action, PlanRow, RunContext, Status

log = logging.getLogger(__name__)
FATAL = (AuthError, QuotaExhaustedError)
EXECUTABLE = (Status.PENDING, Status.FAILED)
GUARDED = (Action.LINK, Action.UPDATE, Action.DEACTIVATE_QBO)   # rows that carry the bases they were planned from
WRITES = (Action.LINK, Action.UPDATE, Action.CREATE_QBO, Action.CREATE_ST, Action.DEACTIVATE_QBO)
MAX_CONSECUTIVE_TRANSIENT = 5
HEARTBEAT_EVERY = 50


class Superseded(Exception):
    """The row must not be applied: the records moved since it was planned; the next run plans them again."""


@dataclass
class Loader:
    ctx: RunContext
    qbo: QuickBooksApi
    st: SynchroteamApi
    task: str = "load_changes"

    # ------------------------------------------------------------------------------------------- driver

    def run(self, actions: tuple[Action, ...] = WRITES) -> Counter[str]:
        counts: Counter[str] = Counter()
        audit.clear_errors(self.ctx, self.task)
        self.ctx.conn.commit()
        transient = 0
        for n, stored in enumerate(plan_db.rows(self.ctx, EXECUTABLE)):
            row = PlanRow.from_dict(stored)
            if row.action not in actions:
                continue
            if n and n % HEARTBEAT_EVERY == 0:
                lease.check(self.ctx)   # raises if another run took over
            status = self.execute(row)
            counts[f"{row.action}:{status}"] += 1
            transient = transient + 1 if status == "transient" else 0
            if transient >= MAX_CONSECUTIVE_TRANSIENT:
                raise RetriableApiError(f"{transient} records in a row failed with transient errors: the API looks "
                                        "unavailable; the task will be retried", api="connector")
        return counts

    def execute(self, row: PlanRow) -> str:
        """Run one row to completion; returns its outcome (a `Status`, or "transient" for a failure that is
        worth retrying soon)."""
        handler = getattr(self, f"_do_{row.action}")
        try:
            if row.action in GUARDED and not self._bases_unchanged(row):
                raise Superseded("a newer run already synced this pair")
            result = handler(row)
            self._finish(row, Status.DONE, result=result)
            return Status.DONE
        except FATAL:
            self.ctx.conn.rollback()
            raise
        except Superseded as why:
            self.ctx.conn.rollback()
            self._finish(row, Status.SUPERSEDED, error=str(why))
            return Status.SUPERSEDED
        except RetriableApiError as err:   # the client's own retries are spent: this record waits for next time
            self._fail(row, err.code, err.message, None, side=err.api)
            return "transient"
        except ApiError as err:
            return self._fail(row, err.code, err.message, getattr(err, "element", None), side=err.api)
        except Exception as err:  # a bug or bad data in one record must not stop the others
            log.exception("row %s failed", row.seq)
            return self._fail(row, "internal", f"{type(err).__name__}: {err}", None, side="connector")

    def _fail(self, row: PlanRow, code: str | None, message: str, field: str | None, side: str) -> str:
        self.ctx.conn.rollback()
        key = row.st_id if row.st_id is not None else row.qbo_id
        audit.record_error(self.ctx, self.task, side, "customer", key,
                           f"{row.action} failed: {message}", code=code, field=field)
        self._finish(row, Status.FAILED, error=f"[{code}] {message}")
        return Status.FAILED

    def _finish(self, row: PlanRow, status: Status, error: str | None = None,
                result: dict[str, Any] | None = None) -> None:
        plan_db.set_status(self.ctx, _seq(row), status, error, result)
        self.ctx.conn.commit()

    def _bases_unchanged(self, row: PlanRow) -> bool:
        st_b = mapping_db.base(self.ctx, "st", str(row.st_id))
        qbo_b = mapping_db.base(self.ctx, "qbo", str(row.qbo_id))
        return plan_customers.base_hash(st_b, qbo_b) == row.base_hash

    def request_id(self, row: PlanRow, op: str) -> str:
        return request_ids.plan_row(self.ctx.tenant_id, self.ctx.run_id, _seq(row), op)

    # ------------------------------------------------------------------------------------------- actions

    def _do_link(self, row: PlanRow) -> dict[str, Any]:
        st_id, qbo_id = _st_id(row), _qbo_id(row)
        existing = mapping_db.link_for_st(self.ctx, st_id)
        if existing not in (None, qbo_id):
            raise _RowError("already linked to QuickBooks customer " + str(existing))
        if mapping_db.link_for_qbo(self.ctx, qbo_id) not in (None, st_id):
            raise _RowError("the QuickBooks customer is already linked to another Synchroteam customer")
        mapping_db.add_link(self.ctx, st_id, qbo_id, "match")
        return self._do_update(row)

    def _do_update(self, row: PlanRow) -> dict[str, Any]:
        return self._apply_pair(row, row.payload)

    def _apply_pair(self, row: PlanRow, p: dict[str, Any]) -> dict[str, Any]:
        """Write a merged pair both ways, then store the new bases (written fields from the responses, planned
        values for the rest, held-back fields at their old base)."""
        st_new, qbo_new = dict(p["st_canon"]), dict(p["qbo_canon"])
        st_version, qbo_version = None, p.get("qbo_sync_token")
        if p["to_qbo"]:
            obj = self._update_qbo(row, p["to_qbo"], {**qbo_new, **p["to_qbo"]}, p.get("qbo_sync_token"))
            written = mapping.qbo_to_canon(obj)
            qbo_new.update({f: written[f] for f in p["to_qbo"]})
            qbo_version = obj.get("SyncToken")
        if p["to_st"]:
            try:
                obj = self.st.send_customer({"id": _st_id(row), **mapping.canon_to_st(
                    p["to_st"], full={**st_new, **p["to_st"]})})
            except NotFoundError:   # deleted in Synchroteam since the extract: mirror the deletion instead
                return {**self._deactivate_qbo(row, confirm=False), "reason": "deleted in Synchroteam"}
            written = mapping.st_to_canon(obj)
            st_new.update({f: written[f] for f in p["to_st"]})
            st_version = obj.get("dateModified")
        for side, new, version in (("st", st_new, st_version), ("qbo", qbo_new, qbo_version)):
            old = p.get(f"{side}_base") or {}
            for f in p["held"].get(side, []):
                new[f] = old.get(f)
            rid = str(_st_id(row)) if side == "st" else _qbo_id(row)
            mapping_db.save_base(self.ctx, side, rid, new, None if version is None else str(version))
        return {"to_qbo": sorted(p["to_qbo"]), "to_st": sorted(p["to_st"])}

    def _adopt(self, row: PlanRow, st_id: int, qbo_id: str, st_cur: Canon, qbo_obj: dict[str, Any],
               st_modified: str | None) -> dict[str, Any]:
        """Link an existing same-name record found by look-before-create, and merge the pair like any new link
        (blanks filled, differences decided by the mode), instead of taking both sides as they are."""
        link = plan_customers.NewLink.from_qbo(st_id, st_cur, qbo_obj, st_modified)
        m, payload = plan_customers.merge_new_link(self.ctx.mode, link, self.st.timezone)
        for c in m.conflicts:
            audit.record_conflict(self.ctx, st_id, qbo_id, c["field"], c["st_value"],
                                  c["qbo_value"], c["winner"], c["rule"])
        mapping_db.add_link(self.ctx, st_id, qbo_id, "match")
        return {**self._apply_pair(dataclasses.replace(row, st_id=st_id, qbo_id=qbo_id), payload), "adopted": True}

    def _do_create_qbo(self, row: PlanRow) -> dict[str, Any]:
        """Create, and look only when QuickBooks says the name is taken (6240). DisplayName is unique across
        customers, vendors and employees, so QuickBooks itself refuses a second customer with the name: a lost reply
        whose retry was not replayed by its requestid ends here too, and the holder (our own create) is adopted.
        One call per create instead of four, which matters at 500 requests per minute."""
        st_id, canon = _st_id(row), row.payload["canon"]
        if (linked := mapping_db.link_for_st(self.ctx, st_id)) is not None:
            return {"qbo_id": linked, "note": "already linked"}
        display = row.payload["display_name"] or qbo_safe_name(canon["name"] or f"Synchroteam customer {st_id}")
        for attempt in range(2):
            try:
                obj = self.qbo.create("Customer", mapping.canon_to_qbo(canon, display), self.request_id(row, f"c{attempt}"))
                break
            except DuplicateNameError as err:
                holder = self._name_holder(err, display)
                if holder is None:
                    raise _RowError(f"QuickBooks refuses the name '{display}' as taken (6240) but no customer, vendor "
                                    "or employee of that name was found; nothing was created (no twin). Rename one of "
                                    "them, then clear the run", code="6240") from err
                if holder.get("_entity") == "Customer" \
                        and mapping_db.link_for_qbo(self.ctx, str(holder["Id"])) is None \
                        and match_key(holder.get("DisplayName")) == match_key(display):
                    return {"qbo_id": str(holder["Id"]),
                            **self._adopt(row, st_id, str(holder["Id"]), canon, holder, row.payload.get("st_modified"))}
                if attempt:
                    raise
                display = unique_display_name(canon["name"] or display, st_id, taken=True)
        mapping_db.add_link(self.ctx, st_id, str(obj["Id"]), "created_in_qbo")
        mapping_db.save_base(self.ctx, "st", str(st_id), canon, None)
        mapping_db.save_base(self.ctx, "qbo", str(obj["Id"]), mapping.qbo_to_canon(obj), obj.get("SyncToken"))
        return {"qbo_id": str(obj["Id"]), "display_name": obj.get("DisplayName")}

    def _name_holder(self, err: DuplicateNameError, display: str) -> dict[str, Any] | None:
        """Who holds a DisplayName: the customer named by the fault's ``Id=NNN`` when its name really is this one
        (ids are per entity type: a vendor 58 and a customer 58 may both exist), else the customer, vendor or
        employee holding it by QuickBooks' own rule (case and spacing ignored): the fault often names nobody."""
        if err.existing_id:
            try:
                customer = self.qbo.get("Customer", str(err.existing_id))
            except NotFoundError:
                customer = None
            if customer is not None and name_key(customer.get("DisplayName")) == name_key(display):
                return {**customer, "_entity": "Customer"}
        return self.qbo.find_name_holder(display)

    def _do_create_st(self, row: PlanRow) -> dict[str, Any]:
        qbo_id, canon = _qbo_id(row), row.payload["canon"]
        if (linked := mapping_db.link_for_qbo(self.ctx, qbo_id)) is not None:
            return {"st_id": linked, "note": "already linked"}
        my_id = f"QBO-{self.qbo.realm_id}-{qbo_id}"
        obj = self.st.get_customer(my_id=my_id)   # our own earlier create whose reply was lost
        if obj is None and canon["name"]:
            same = self._unlinked_namesake(canon["name"])
            if same is not None:
                qbo_obj = self.qbo.get("Customer", qbo_id)
                return {"st_id": int(same["id"]), **self._adopt(row, int(same["id"]), qbo_id,
                                                               mapping.st_to_canon(same), qbo_obj,
                                                               same.get("dateModified"))}
        if obj is None:
            body = {"myId": my_id, **mapping.canon_to_st(canon, full=canon)}
            body["address"] = mapping.st_one_line_address(canon)
            obj = self.st.send_customer(body)
        mapping_db.add_link(self.ctx, int(obj["id"]), qbo_id, "created_in_st")
        mapping_db.save_base(self.ctx, "st", str(obj["id"]), mapping.st_to_canon(obj), obj.get("dateModified"))
        mapping_db.save_base(self.ctx, "qbo", qbo_id, canon, row.payload.get("qbo_sync_token"))
        return {"st_id": int(obj["id"])}

    def _unlinked_namesake(self, name: str) -> dict[str, Any] | None:
        """An active, unlinked Synchroteam customer with this very name (by the matching rules), lowest id first.
        What Synchroteam's name filters match is not to be trusted (a prefix, or nothing at all): every candidate
        is compared here, so "Smith" is never taken for "Smith Plumbing"."""
        key = match_key(name)
        same = sorted((c for c in self.st.list_customers(active=True, name=name) if match_key(c.get("name")) == key),
                      key=lambda c: int(c["id"]))
        return next((c for c in same if mapping_db.link_for_st(self.ctx, int(c["id"])) is None), None)

    def _do_deactivate_qbo(self, row: PlanRow) -> dict[str, Any]:
        return self._deactivate_qbo(row, confirm=True)

    def _deactivate_qbo(self, row: PlanRow, confirm: bool) -> dict[str, Any]:
        """Mirror a deletion in Synchroteam. A customer missing from a paged full read is confirmed gone first
        (a page can shift while someone edits), so a live customer is never treated as deleted."""
        qbo_id, st_id = _qbo_id(row), _st_id(row)
        if confirm and self.st.get_customer(id=st_id) is not None:
            raise Superseded("still exists in Synchroteam (the full read missed it); planned again next run")
        mapping_db.mark_st_deleted(self.ctx, st_id)
        current = self.qbo.get("Customer", qbo_id)
        if current.get("Active", True):
            current = self.qbo.deactivate_customer(qbo_id, str(current["SyncToken"]), self.request_id(row, "d"))
        mapping_db.save_base(self.ctx, "qbo", qbo_id, mapping.qbo_to_canon(current), current.get("SyncToken"))
        return {"deactivated": qbo_id}

    # ------------------------------------------------------------------------------------------- writes

    def _update_qbo(self, row: PlanRow, changes: Canon, merged: Canon, sync_token: str | None) -> dict[str, Any]:
        qbo_id = _qbo_id(row)
        body = mapping.fill_address(mapping.canon_to_qbo(changes, self._display_for(changes)), merged)
        if sync_token is None:
            sync_token = str(self.qbo.get("Customer", qbo_id)["SyncToken"])
        for attempt in range(2):
            try:
                return self.qbo.update("Customer", {"Id": qbo_id, "SyncToken": sync_token, **body},
                                       self.request_id(row, f"q{attempt}"))
            except StaleObjectError as err:   # changed in QuickBooks since the extract: merge it next run
                raise Superseded("changed in QuickBooks during the run; merged by the next run") from err
            except DuplicateNameError:
                if attempt or "DisplayName" not in body:
                    raise
                body["DisplayName"] = unique_display_name(changes["name"] or "", _st_id(row), taken=True)
        raise AssertionError("unreachable")

    def _display_for(self, changes: Canon) -> str | None:
        return qbo_safe_name(changes["name"]) if changes.get("name") else None


def _seq(row: PlanRow) -> int:
    """A stored row's number (rows the loader reads always have one)."""
    if row.seq is None:
        raise ValueError("the loader executes stored plan rows only")
    return row.seq


def _st_id(row: PlanRow) -> int:
    if row.st_id is None:
        raise _RowError(f"a {row.action} row needs a Synchroteam id")
    return int(row.st_id)


def _qbo_id(row: PlanRow) -> str:
    if row.qbo_id is None:
        raise _RowError(f"a {row.action} row needs a QuickBooks id")
    return str(row.qbo_id)


class _RowError(ApiError):
    """A row that cannot be executed for a reason of our own (not an API answer)."""

    def __init__(self, message: str, code: str = "link") -> None:
        super().__init__(message, api="connector", code=code)


