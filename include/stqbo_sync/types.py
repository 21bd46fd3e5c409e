"""The typed seams shared by the DAG params, the service, the planners, the loaders and the merge policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
