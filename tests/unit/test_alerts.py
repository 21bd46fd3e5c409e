"""The alert decisions: which incident opens, one message per incident, one on recovery; and the texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stqbo_sync.alerts import FAILED, REAUTHORIZE, RECOVERED, STALE, Outcome, decide, message

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(minutes=30)
OLD = NOW - timedelta(hours=3)


@pytest.mark.parametrize(("open_kinds", "outcome", "due"), [
    # a success with nothing open: silence; with incidents open: one recovery message
    (set(), Outcome("r", failed=False), []),
    ({FAILED}, Outcome("r", failed=False), [RECOVERED]),
    ({FAILED, REAUTHORIZE, STALE}, Outcome("r", failed=False), [RECOVERED]),
    # a successful dry run proves nothing about real runs
    ({FAILED}, Outcome("r", failed=False, dry_run=True), []),
    # a first failure opens the incident; the same incident again sends nothing
    (set(), Outcome("r", failed=True, last_success_at=RECENT, now=NOW), [FAILED]),
    ({FAILED}, Outcome("r", failed=True, last_success_at=RECENT, now=NOW), []),
    (set(), Outcome("r", failed=True, dry_run=True), [FAILED]),
    # invalid_grant: its own incident, even while a failed-run incident is open
    (set(), Outcome("r", failed=True, reauthorize=True), [REAUTHORIZE]),
    ({FAILED}, Outcome("r", failed=True, reauthorize=True), [REAUTHORIZE]),
    ({REAUTHORIZE}, Outcome("r", failed=True, reauthorize=True), []),
    # no success for N hours (default 2): once, beside the failure
    (set(), Outcome("r", failed=True, last_success_at=OLD, now=NOW), [FAILED, STALE]),
    ({FAILED}, Outcome("r", failed=True, last_success_at=OLD, now=NOW), [STALE]),
    ({FAILED, STALE}, Outcome("r", failed=True, last_success_at=OLD, now=NOW), []),
    ({FAILED}, Outcome("r", failed=True, last_success_at=OLD, now=NOW, stale_hours=4), []),
    ({FAILED}, Outcome("r", failed=True, last_success_at=NOW - timedelta(hours=2), now=NOW), [STALE]),
    # never succeeded: no "stale" (the failed-run message says what to do)
    ({FAILED}, Outcome("r", failed=True, last_success_at=None, now=NOW), []),
])
def test_decide(open_kinds: set[str], outcome: Outcome, due: list[str]) -> None:
    assert decide(open_kinds, outcome) == due


@pytest.mark.parametrize("kind", [FAILED, REAUTHORIZE, STALE, RECOVERED])
def test_messages_say_what_to_do_and_link_the_run(kind: str) -> None:
    link = "http://airflow.example/dags/synchroteam_quickbooks_sync/runs/manual__1"
    alert = message(kind, Outcome("manual__1", failed=kind != RECOVERED, last_success_at=OLD, now=NOW),
                    "acme <-> QuickBooks realm 123 (sandbox)", link, {FAILED})
    assert alert.kind == kind
    assert link in alert.body and "manual__1" in alert.body and "realm 123" in alert.subject
    assert ("What to do" in alert.body) or ("Nothing to do" in alert.body)
    if kind == REAUTHORIZE:
        assert "make connect" in alert.body and "re-authorised" in alert.subject
    if kind == STALE:
        assert "2 hours" in alert.subject and "2026-12-04 09:00 UTC" in alert.body
    if kind == RECOVERED:
        assert "failed runs" in alert.body


def test_messages_are_scrubbed() -> None:
    from stqbo_api.redact import register_secret

    register_secret("sk-very-secret-value-123")
    alert = message(FAILED, Outcome("r", failed=True), "tenant sk-very-secret-value-123", "http://x/runs/r")
    assert "sk-very-secret-value-123" not in alert.body + alert.subject
