"""The alert sender (plugins/stqbo_hooks/alerting.py): any notifier an operator configures, the run link, and a
notifier that fails does not fail the report."""

from __future__ import annotations

from typing import Any

import pytest

from stqbo_hooks import alerting
from stqbo_sync.alerts import FAILED, Alert

SENT: list[tuple[str, str, Any]] = []


class _Notifier:
    def __init__(self, subject: str, body: str) -> None:
        self.subject, self.body = subject, body

    def notify(self, context: Any) -> None:
        if "boom" in self.subject:
            raise OSError("mail server down")
        SENT.append((self.subject, self.body, context))


def factory(subject: str, body: str) -> _Notifier:
    return _Notifier(subject, body)


def test_a_configured_notifier_gets_each_alert_and_a_failing_one_is_only_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SENT.clear()
    logged: list[str] = []
    monkeypatch.setattr(alerting.log, "warning", lambda msg, *args: logged.append(msg % args))
    monkeypatch.setattr(alerting.log, "exception", lambda msg, *args: logged.append(msg % args))
    monkeypatch.delenv("AIRFLOW_VAR_STQBO_ALERT_TO", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_STQBO_ALERT_NOTIFIER", f"{__name__}:factory")
    alerting.send([Alert(FAILED, "run failed", "what to do"), Alert(FAILED, "boom", "x")], {"run_id": "r1"})
    assert SENT == [("run failed", "what to do", {"run_id": "r1"})]
    assert logged == ["ALERT (failed): run failed\nwhat to do", "ALERT (failed): boom\nx",
                      "alert failed: _Notifier could not send it"]


def test_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    assert alerting.run_link("synchroteam_quickbooks_sync", "manual__2026-12-04T10:00:00+00:00") == (
        "https://airflow.example.com/dags/synchroteam_quickbooks_sync/runs/manual__2026-12-04T10%3A00%3A00%2B00%3A00")
    monkeypatch.delenv("AIRFLOW_VAR_STQBO_ALERT_STALE_HOURS", raising=False)
    assert alerting.stale_hours() == 2.0
    monkeypatch.setenv("AIRFLOW_VAR_STQBO_ALERT_STALE_HOURS", "6")
    assert alerting.stale_hours() == 6.0
    monkeypatch.setenv("AIRFLOW_VAR_STQBO_ALERT_STALE_HOURS", "soon")
    assert alerting.stale_hours() == 2.0
    monkeypatch.delenv("AIRFLOW_VAR_STQBO_ALERT_NOTIFIER", raising=False)
    assert alerting.notifiers("s", "b") == []
