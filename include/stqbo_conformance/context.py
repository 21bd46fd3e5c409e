"""What every probe gets: the clients and wires of the two accounts, whether it may write, a run token that
names whatever it creates, and the few reads several probes share (read once, metered calls are not free)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stqbo_api.quickbooks import QuickBooksClient
from stqbo_api.redact import scrub
from stqbo_api.synchroteam import SynchroteamClient
from stqbo_conformance.wire import QuickBooksWire, SynchroteamWire

log = logging.getLogger(__name__)

# A Synchroteam read of customers or invoices stops after this many pages of 100 (a sample is enough).
MAX_PAGES = 20
PROBE_PREFIX = "stqbo conformance"


def is_probe_name(text: str) -> bool:
    """True for a name this check makes (in any case or spacing)."""
    return " ".join(text.split()).casefold().startswith(PROBE_PREFIX)


class NotChecked(Exception):  # noqa: N818 - a probe's way to say "unknown" with a reason, not an error
    """The probe cannot check its fact here (no connection, read-only run, no data); the message says why."""


@dataclass
class Context:
    """The run's shared state; a side is None when its connection was not given."""

    qbo: QuickBooksClient | None = None
    qbo_wire: QuickBooksWire | None = None
    st: SynchroteamClient | None = None
    st_wire: SynchroteamWire | None = None
    write: bool = False
    show_names: bool = False
    token: str = field(default_factory=lambda: datetime.now(UTC).strftime("%m%d%H%M") + secrets.token_hex(2))
    cleanups: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------- access

    def quickbooks(self) -> tuple[QuickBooksClient, QuickBooksWire]:
        if self.qbo is None or self.qbo_wire is None:
            raise NotChecked("not checked: no QuickBooks connection was given")
        return self.qbo, self.qbo_wire

    def synchroteam(self) -> tuple[SynchroteamClient, SynchroteamWire]:
        if self.st is None or self.st_wire is None:
            raise NotChecked("not checked: no Synchroteam connection was given")
        return self.st, self.st_wire

    def require_write(self) -> None:
        if not self.write:
            raise NotChecked("not checked: this probe writes; run with --write against a QuickBooks sandbox company")

    def request_id(self, label: str) -> str:
        """A QuickBooks request id for one write of this run (unique per company, at most 50 characters)."""
        return f"stqbo-conf-{self.token}-{label}"[:50]

    def probe_name(self, label: str) -> str:
        """A name no real record has, recognisable as the check's own: ``stqbo conformance <token> <label>``."""
        return f"{PROBE_PREFIX} {self.token} {label}"

    # ------------------------------------------------------------------------------------------ privacy

    def name(self, value: Any) -> str:
        """A customer's name as the report shows it: masked (first two characters and length) unless the run
        was asked to show names; a name the check made itself is always shown."""
        text = str(value if value is not None else "")
        if self.show_names or is_probe_name(text) or len(text) <= 2:
            return text
        return f"{text[:2]}… ({len(text)} chars)"

    # ---------------------------------------------------------------------------------------- cleanups

    def on_cleanup(self, label: str, action: Callable[[], Any]) -> None:
        """Undo something the run created, after every probe (newest first)."""
        self.cleanups.append((label, action))

    def clean_up(self) -> list[str]:
        """Run the cleanups; returns a line per cleanup that failed (the report lists what was left behind)."""
        left: list[str] = []
        while self.cleanups:
            label, action = self.cleanups.pop()
            try:
                action()
            except Exception as err:  # one failed cleanup must not stop the others
                problem = scrub(str(err), limit=200) or type(err).__name__
                log.warning("conformance cleanup %s failed: %s", label, problem)
                left.append(f"{label}: {problem}")
        return left
