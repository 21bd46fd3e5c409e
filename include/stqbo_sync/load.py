"""load_changes: execute this run's customer plan rows against both APIs, idempotently.

Each row is executed at most once to completion: its writes, its link and its new bases are committed together
with status ``done``; a re-run of the task skips done rows and retries the others. Writes are safe to repeat:
QuickBooks calls carry a ``requestid`` derived from (tenant, run, row); creates look before they write (QuickBooks
by DisplayName, Synchroteam by ``myId``); updates are sparse and carry the SyncToken (a stale one is re-read and
retried once). A row whose bases moved since it was planned (a newer run already handled the pair) is superseded.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from stqbo_hooks.errors import (
    ApiError,
    AuthError,
    DuplicateNameError,
    NotFoundError,
    QuotaExhaustedError,
    RetriableApiError,
    StaleObjectError,
)
from stqbo_sync import mapping, store
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.model import Canon
from stqbo_sync.names import match_key, qbo_safe_name, unique_display_name

log = logging.getLogger(__name__)
FATAL = (AuthError, QuotaExhaustedError, RetriableApiError)
EXECUTABLE = ("pending", "failed")


@dataclass
class Loader:
    conn: store.Conn
    qbo: QuickBooksApi
    st: SynchroteamApi
    tenant_id: int
    run_id: str
    task: str = "load_changes"

    # ------------------------------------------------------------------------------------------- driver

    def run(self, actions: tuple[str, ...] = ("link", "update", "create_qbo", "create_st", "deactivate_qbo")
            ) -> Counter[str]:
        counts: Counter[str] = Counter()
        store.clear_errors(self.conn, self.tenant_id, self.run_id, self.task)
        self.conn.commit()
        for row in store.plan_rows(self.conn, self.tenant_id, self.run_id, EXECUTABLE):
            if row["action"] not in actions:
                continue
            status = self.execute(row)
            counts[f"{row['action']}:{status}"] += 1
        return counts

    def execute(self, row: dict[str, Any]) -> str:
        handler = getattr(self, f"_do_{row['action']}")
        try:
            if row["action"] in ("update", "deactivate_qbo") and not self._bases_unchanged(row):
                self._finish(row, "superseded", error="a newer run already synced this pair")
                return "superseded"
            result = handler(row)
            self._finish(row, "done", result=result)
            return "done"
        except FATAL:
            self.conn.rollback()
            raise
        except ApiError as err:
            return self._fail(row, err.code, err.message, getattr(err, "element", None), side=err.api)
        except Exception as err:  # a bug or bad data in one record must not stop the others
            log.exception("row %s failed", row["seq"])
            return self._fail(row, "internal", f"{type(err).__name__}: {err}", None, side="connector")

    def _fail(self, row: dict[str, Any], code: str | None, message: str, field: str | None, side: str) -> str:
        self.conn.rollback()
        key = row["st_id"] if row["st_id"] is not None else row["qbo_id"]
        store.record_error(self.conn, self.tenant_id, self.run_id, self.task, side, "customer", key,
                           f"{row['action']} failed: {message}", code=code, field=field)
        self._finish(row, "failed", error=f"[{code}] {message}")
        return "failed"

    def _finish(self, row: dict[str, Any], status: str, error: str | None = None,
                result: dict[str, Any] | None = None) -> None:
        store.set_plan_status(self.conn, self.tenant_id, self.run_id, row["seq"], status, error, result)
        self.conn.commit()

    def _bases_unchanged(self, row: dict[str, Any]) -> bool:
        st_b = store.base(self.conn, self.tenant_id, "st", str(row["st_id"]))
        qbo_b = store.base(self.conn, self.tenant_id, "qbo", str(row["qbo_id"]))
        return store.base_hash(st_b, qbo_b) == row["base_hash"]

    def request_id(self, row: dict[str, Any], op: str) -> str:
        digest = hashlib.sha1(f"{self.tenant_id}|{self.run_id}|{row['seq']}".encode()).hexdigest()[:24]
        return f"stqbo-{digest}-{op}"

    # ------------------------------------------------------------------------------------------- actions

    def _do_link(self, row: dict[str, Any]) -> dict[str, Any]:
        existing = store.link_for_st(self.conn, self.tenant_id, row["st_id"])
        if existing not in (None, row["qbo_id"]):
            raise _RowError("already linked to QuickBooks customer " + str(existing))
        if store.link_for_qbo(self.conn, self.tenant_id, row["qbo_id"]) not in (None, row["st_id"]):
            raise _RowError("the QuickBooks customer is already linked to another Synchroteam customer")
        store.add_link(self.conn, self.tenant_id, row["st_id"], row["qbo_id"], "match", self.run_id)
        return self._do_update(row)

    def _do_update(self, row: dict[str, Any]) -> dict[str, Any]:
        p = row["payload"]
        st_now, qbo_now = dict(p["st_canon"]), dict(p["qbo_canon"])
        st_version = qbo_version = None
        if p["to_qbo"]:
            obj = self._update_qbo(row, p["to_qbo"], {**qbo_now, **p["to_qbo"]})
            qbo_now, qbo_version = mapping.qbo_to_canon(obj), obj.get("SyncToken")
        if p["to_st"]:
            try:
                obj = self.st.send_customer({"id": int(row["st_id"]), **mapping.canon_to_st(p["to_st"],
                                                                                           full={**st_now, **p["to_st"]})})
            except NotFoundError:   # deleted in Synchroteam since the extract: mirror the deletion instead
                self._save_bases(row, st_now, qbo_now, st_version, qbo_version)
                return {**self._do_deactivate_qbo(row), "reason": "deleted in Synchroteam"}
            st_now, st_version = mapping.st_to_canon(obj), obj.get("dateModified")
        self._save_bases(row, st_now, qbo_now, st_version, qbo_version)
        return {"to_qbo": sorted(p["to_qbo"]), "to_st": sorted(p["to_st"])}

    def _do_create_qbo(self, row: dict[str, Any]) -> dict[str, Any]:
        st_id, canon = int(row["st_id"]), row["payload"]["canon"]
        if (linked := store.link_for_st(self.conn, self.tenant_id, st_id)) is not None:
            return {"qbo_id": linked, "note": "already linked"}
        display = row["payload"]["display_name"] or qbo_safe_name(canon["name"] or f"Synchroteam customer {st_id}")
        for attempt in range(2):
            adopted, display = self._look_before_create(display, canon, st_id)
            if adopted is not None:
                obj = adopted
                break
            try:
                obj = self.qbo.create("Customer", mapping.canon_to_qbo(canon, display), self.request_id(row, f"c{attempt}"))
                break
            except DuplicateNameError:
                if attempt:
                    raise
                display = unique_display_name(canon["name"] or display, st_id, taken=True)
        store.add_link(self.conn, self.tenant_id, st_id, str(obj["Id"]),
                       "match" if adopted is not None else "created_in_qbo", self.run_id)
        store.save_base(self.conn, self.tenant_id, "st", str(st_id), canon, None)
        store.save_base(self.conn, self.tenant_id, "qbo", str(obj["Id"]), mapping.qbo_to_canon(obj), obj.get("SyncToken"))
        return {"qbo_id": str(obj["Id"]), "display_name": obj.get("DisplayName"), "adopted": adopted is not None}

    def _look_before_create(self, display: str, canon: Canon, st_id: int) -> tuple[dict[str, Any] | None, str]:
        """An existing unlinked customer with the same name is adopted (it may be our own earlier create whose reply
        was lost); a name used by a vendor, an employee or a linked customer makes the DisplayName unique."""
        for hit in self.qbo.find_by_display_name(display):
            if hit.get("_entity") == "Customer" and store.link_for_qbo(self.conn, self.tenant_id, str(hit["Id"])) is None \
                    and match_key(hit.get("DisplayName")) == match_key(display):
                return hit, display
            return None, unique_display_name(canon["name"] or display, st_id, taken=True)
        return None, display

    def _do_create_st(self, row: dict[str, Any]) -> dict[str, Any]:
        qbo_id, canon = str(row["qbo_id"]), row["payload"]["canon"]
        if (linked := store.link_for_qbo(self.conn, self.tenant_id, qbo_id)) is not None:
            return {"st_id": linked, "note": "already linked"}
        my_id = f"QBO-{self.qbo.realm_id}-{qbo_id}"
        obj = self.st.get_customer(my_id=my_id)
        how = "created_in_st"
        if obj is None and canon["name"]:
            same = self.st.get_customer(name=canon["name"])
            if same is not None and store.link_for_st(self.conn, self.tenant_id, int(same["id"])) is None:
                obj, how = same, "match"
        if obj is None:
            body = {"myId": my_id, **mapping.canon_to_st(canon, full=canon)}
            body["address"] = mapping.st_one_line_address(canon)
            obj = self.st.send_customer(body)
        store.add_link(self.conn, self.tenant_id, int(obj["id"]), qbo_id, how, self.run_id)
        store.save_base(self.conn, self.tenant_id, "st", str(obj["id"]), mapping.st_to_canon(obj), obj.get("dateModified"))
        store.save_base(self.conn, self.tenant_id, "qbo", qbo_id, canon, None)
        return {"st_id": int(obj["id"]), "adopted": how == "match"}

    def _do_deactivate_qbo(self, row: dict[str, Any]) -> dict[str, Any]:
        qbo_id = str(row["qbo_id"])
        store.mark_st_deleted(self.conn, self.tenant_id, int(row["st_id"]))
        current = self.qbo.get("Customer", qbo_id)
        if current.get("Active", True):
            current = self.qbo.deactivate_customer(qbo_id, str(current["SyncToken"]), self.request_id(row, "d"))
        store.save_base(self.conn, self.tenant_id, "qbo", qbo_id, mapping.qbo_to_canon(current), current.get("SyncToken"))
        return {"deactivated": qbo_id}

    # ------------------------------------------------------------------------------------------- writes

    def _update_qbo(self, row: dict[str, Any], changes: Canon, merged: Canon) -> dict[str, Any]:
        qbo_id = str(row["qbo_id"])
        body = mapping.fill_address(mapping.canon_to_qbo(changes, self._display_for(changes, row)), merged)
        current = self.qbo.get("Customer", qbo_id)
        for attempt in range(3):
            try:
                return self.qbo.update("Customer", {"Id": qbo_id, "SyncToken": str(current["SyncToken"]), **body},
                                       self.request_id(row, f"q{attempt}"))
            except StaleObjectError:
                if attempt:
                    raise
                current = self.qbo.get("Customer", qbo_id)   # re-read; our fields were planned from its base
            except DuplicateNameError:
                if attempt or "DisplayName" not in body:
                    raise
                body["DisplayName"] = unique_display_name(changes["name"] or "", row["st_id"], taken=True)
        raise AssertionError("unreachable")

    def _display_for(self, changes: Canon, row: dict[str, Any]) -> str | None:
        return qbo_safe_name(changes["name"]) if changes.get("name") else None

    def _save_bases(self, row: dict[str, Any], st_now: Canon, qbo_now: Canon, st_version: Any, qbo_version: Any) -> None:
        """New bases are what each side now holds, except fields whose change was held back (by the mode): those
        keep their old base value so the change is still seen by the next run that may write it."""
        p = row["payload"]
        for side, now, version in (("st", st_now, st_version), ("qbo", qbo_now, qbo_version)):
            old = p.get(f"{side}_base") or {}
            new = dict(now)
            for f in p["held"].get(side, []):
                new[f] = old.get(f) if old else None
            rid = str(row["st_id"] if side == "st" else row["qbo_id"])
            store.save_base(self.conn, self.tenant_id, side, rid, new, None if version is None else str(version))


class _RowError(ApiError):
    """A row that cannot be executed for a reason of our own (not an API answer)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, api="connector", code="link")
