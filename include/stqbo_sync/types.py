"""The typed seams shared by the DAG params, the service, the planners, the loaders and the merge policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stqbo_store import Scope


class Mode(StrEnum):
    """What a run does (the DAG's ``mode`` param)."""

    SYNC = "sync"          # both ways, incremental, plus invoices (what the schedule runs)
    UPLOAD = "upload"      # every Synchroteam customer to QuickBooks
    DOWNLOAD = "download"  # every QuickBooks customer to Synchroteam


@dataclass(frozen=True)
class RunContext(Scope):
    """One task's view of a run: the state DB connection, the tenant, the run id and the run's params."""

    mode: Mode = Mode.SYNC
    dry_run: bool = False


class Action(StrEnum):
    """What a customer plan row does. The values are stored in ``sync.plan.action`` and read by the reports:
    never rename one."""

    LINK = "link"                      # link an unlinked pair found by matching, then apply the first merge
    UPDATE = "update"                  # a linked pair where a side changed: writes to the other side
    CREATE_QBO = "create_qbo"          # new in Synchroteam: create it in QuickBooks
    CREATE_ST = "create_st"            # new in QuickBooks: create it in Synchroteam
    DEACTIVATE_QBO = "deactivate_qbo"  # deleted in Synchroteam: deactivate its QuickBooks customer
    AMBIGUOUS = "ambiguous"            # reported only: a person must tell the records apart
    SKIP = "skip"                      # reported only: nothing to do, with the reason
    WARNING = "warning"                # reported only: a probable duplicate


class Status(StrEnum):
    """Where a plan row stands (stored in ``sync.plan.status``)."""

    PENDING = "pending"        # planned, not executed yet
    DONE = "done"              # executed; its writes, link and bases are committed
    FAILED = "failed"          # the last attempt failed; a re-run retries it
    SUPERSEDED = "superseded"  # the records moved since it was planned: the next run plans them again
    INFO = "info"              # nothing to execute (ambiguous, skip, warning)


@dataclass(frozen=True)
class PlanRow:
    """One customer plan row: what to do to which pair, why, and what the loader needs to do it.

    ``base_hash`` fingerprints the bases the row was computed from (rows that write to a linked pair), so the
    loader can tell that a newer run already moved the pair. ``seq`` is the row's number once stored."""

    action: Action
    reason: str
    st_id: int | None = None
    qbo_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.PENDING
    base_hash: str | None = None
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as the store writes it (plain strings for the enums)."""
        return {"action": str(self.action), "reason": self.reason, "st_id": self.st_id, "qbo_id": self.qbo_id,
                "payload": self.payload, "status": str(self.status), "base_hash": self.base_hash, "seq": self.seq}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> PlanRow:
        """A stored row (a ``sync.plan`` record as a dict; extra columns are ignored)."""
        return cls(action=Action(row["action"]), reason=row.get("reason") or "", st_id=row.get("st_id"),
                   qbo_id=row.get("qbo_id"), payload=row.get("payload") or {},
                   status=Status(row.get("status") or Status.PENDING), base_hash=row.get("base_hash"),
                   seq=row.get("seq"))
