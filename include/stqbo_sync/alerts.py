"""Which alert a run's outcome calls for: a failed run, "QuickBooks must be re-authorised", "no successful run for N
hours", and the recovery. Pure decisions (`decide`, `messages`) plus `check`, which reads and records the tenant's
open incidents in the state DB. Sending is not done here (the sync core never imports Airflow): the DAG's report
task hands the messages to an Airflow notifier.

One message per incident: an incident kind that is already open sends nothing more until a successful run (not a
dry run) closes every open incident, which sends one recovery message. Texts are plain language, say what to do,
carry the link to the run, and go through `stqbo_api.redact.scrub` so no secret can reach a mailbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stqbo_api.redact import scrub
from stqbo_store import audit
from stqbo_sync.types import RunContext

FAILED = "failed"
REAUTHORIZE = "reauthorize"
STALE = "stale"
RECOVERED = "recovered"
DEFAULT_STALE_HOURS = 2.0


@dataclass(frozen=True)
class Outcome:
    """What the report task knows about the run that just ended, and the tenant's history."""

    run_id: str
    failed: bool
    dry_run: bool = False
    reauthorize: bool = False
    last_success_at: datetime | None = None   # newest successful run that was not a dry run
    now: datetime | None = None
    stale_hours: float = DEFAULT_STALE_HOURS


@dataclass(frozen=True)
class Alert:
    kind: str      # failed | reauthorize | stale | recovered
    subject: str
    body: str


def decide(open_kinds: set[str], outcome: Outcome) -> list[str]:
    """The messages due, by kind: incidents that open now (not already open), or `recovered` when a real run
    succeeded while incidents were open. A successful dry run proves nothing about real runs: it changes nothing."""
    if not outcome.failed:
        return [RECOVERED] if open_kinds and not outcome.dry_run else []
    due = [REAUTHORIZE if outcome.reauthorize else FAILED]
    if _stale(outcome):
        due.append(STALE)
    return [kind for kind in due if kind not in open_kinds]


def _stale(outcome: Outcome) -> bool:
    if outcome.last_success_at is None or outcome.now is None:
        return False   # never succeeded yet: the failed-run message already says what to do
    return outcome.now - outcome.last_success_at >= timedelta(hours=outcome.stale_hours)


def message(kind: str, outcome: Outcome, tenant: str, link: str, closed: Iterable[str] = ()) -> Alert:
    """The plain-language message of one kind, scrubbed of anything that looks like a secret."""
    subject, body = _TEXTS[kind](outcome, tenant, sorted(closed))
    body = f"{body}\n\nRun: {outcome.run_id}\nLink to the run: {link}\nConnector: {tenant}"
    return Alert(kind, scrub(subject, None) or "", scrub(body, None) or "")


def _failed(o: Outcome, tenant: str, closed: list[str]) -> tuple[str, str]:
    return (f"Synchroteam-QuickBooks sync: run failed ({tenant})",
            "A sync run between Synchroteam and QuickBooks Online failed: some records were not synced, or a task "
            "stopped.\n\nWhat to do: open the run (link below) and read the report task's log; each failed record "
            "is listed with a plain explanation (docs/operating.md, section 5, explains every error code). Fix the "
            "cause, then clear the run's failed tasks: only what failed is retried, nothing is written twice.\n"
            "You get one more message when a run succeeds again.")


def _reauthorize(o: Outcome, tenant: str, closed: list[str]) -> tuple[str, str]:
    return (f"Synchroteam-QuickBooks sync: QuickBooks must be re-authorised ({tenant})",
            "QuickBooks Online refused the connector's authorisation (the connection was revoked, expired after "
            "100 days unused, or the app was disconnected). Nothing is synced until someone re-authorises it.\n\n"
            "What to do: run `make connect` with the same client id and secret, sign in to QuickBooks and choose "
            "the same company (docs/operating.md, section 6). Then clear the failed run, or wait for the next "
            "scheduled run.\nYou get one more message when a run succeeds again.")


def _stale_text(o: Outcome, tenant: str, closed: list[str]) -> tuple[str, str]:
    last = o.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if o.last_success_at else "never"
    return (f"Synchroteam-QuickBooks sync: no successful run for {o.stale_hours:g} hours ({tenant})",
            f"No sync run has succeeded for {o.stale_hours:g} hours (last success: {last}): Synchroteam and "
            "QuickBooks are drifting apart.\n\nWhat to do: open the latest run (link below) and its report task's "
            "log; fix what it names, then clear the failed tasks. Check also that the DAG is not paused and the "
            "Airflow scheduler is running.\nYou get one more message when a run succeeds again.")


def _recovered(o: Outcome, tenant: str, closed: list[str]) -> tuple[str, str]:
    names = {FAILED: "failed runs", REAUTHORIZE: "QuickBooks re-authorisation", STALE: "no successful run"}
    over = ", ".join(names.get(k, k) for k in closed) or "the earlier problem"
    return (f"Synchroteam-QuickBooks sync: recovered ({tenant})",
            f"A sync run succeeded again; the problem reported earlier ({over}) is over.\n\nNothing to do.")


_TEXTS = {FAILED: _failed, REAUTHORIZE: _reauthorize, STALE: _stale_text, RECOVERED: _recovered}


def check(ctx: RunContext, failed: bool, tenant: str, link: str, stale_hours: float, now: datetime) -> list[Alert]:
    """Decide from the state DB which messages the run calls for and record the incidents they open or close.
    The caller commits, then sends (a message that fails to send is logged, not retried)."""
    info = audit.run_info(ctx) or {}
    outcome = Outcome(run_id=ctx.run_id, failed=failed, dry_run=ctx.dry_run,
                      reauthorize=info.get("cause") == REAUTHORIZE, last_success_at=audit.last_success_at(ctx),
                      now=now, stale_hours=stale_hours)
    open_now = set(audit.open_alerts(ctx))
    due = decide(open_now, outcome)
    if RECOVERED in due:
        audit.close_alerts(ctx)
    for kind in due:
        if kind != RECOVERED:
            audit.open_alert(ctx, kind)
    return [message(kind, outcome, tenant, link, open_now) for kind in due]
