"""Sends the connector's alerts (decided by `stqbo_sync.alerts`) through Airflow notifiers.

Configured with Airflow Variables (or AIRFLOW_VAR_* environment variables), all optional:

* ``stqbo_alert_to``: recipients, comma-separated. Set, each alert goes out by e-mail with the SMTP provider's
  ``SmtpNotifier`` through the connection ``stqbo_alert_smtp_conn_id`` (default ``smtp_default``).
* ``stqbo_alert_notifier``: ``package.module:factory``, a callable ``factory(subject, body)`` returning any Airflow
  notifier (Slack, Teams, PagerDuty...). Used as well as e-mail when both are set.
* ``stqbo_alert_stale_hours``: hours without a successful run before "no successful run" is sent (default 2).

Every alert is also written to the report task's log. A notifier that fails is logged; the run's state does not
change because of it.
"""

from __future__ import annotations

import html
import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)
DEFAULT_STALE_HOURS = 2.0


def _variable(key: str) -> str | None:
    from airflow.sdk import Variable

    try:
        value = Variable.get(key, default=None)
    except Exception:  # noqa: BLE001 - no Variable backend reachable: treat as unset
        return None
    return None if value in (None, "") else str(value)


def stale_hours() -> float:
    raw = _variable("stqbo_alert_stale_hours")
    try:
        return float(raw) if raw else DEFAULT_STALE_HOURS
    except ValueError:
        log.warning("stqbo_alert_stale_hours=%r is not a number; using %s", raw, DEFAULT_STALE_HOURS)
        return DEFAULT_STALE_HOURS


def run_link(dag_id: str, run_id: str) -> str:
    """The run's page in the Airflow UI, from Airflow's ``[api] base_url`` setting."""
    from airflow.configuration import conf

    base = (conf.get("api", "base_url", fallback=None) or "http://localhost:8080").rstrip("/")
    return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def notifiers(subject: str, body: str) -> list[Any]:
    """The notifiers configured for one alert (none: the log only)."""
    found: list[Any] = []
    if to := _variable("stqbo_alert_to"):
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        found.append(SmtpNotifier(
            to=[a.strip() for a in to.split(",") if a.strip()], subject=subject, html_content=_html(body),
            smtp_conn_id=_variable("stqbo_alert_smtp_conn_id") or "smtp_default"))
    if path := _variable("stqbo_alert_notifier"):
        found.append(_factory(path)(subject, body))
    return found


def _factory(path: str) -> Callable[[str, str], Any]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _html(body: str) -> str:
    return "<p>" + html.escape(body).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"


def send(alerts: Iterable[Any], context: Any) -> None:
    """Log each alert and hand it to every configured notifier. ``notify`` is called directly (not the notifier's
    ``__call__``), so nothing in the text is rendered as a template."""
    for alert in alerts:
        log.warning("ALERT (%s): %s\n%s", alert.kind, alert.subject, alert.body)
        try:
            targets = notifiers(alert.subject, alert.body)
        except Exception:  # noqa: BLE001
            log.exception("alert %s: the notifier configuration is wrong", alert.kind)
            continue
        for notifier in targets:
            try:
                notifier.notify(context)
            except Exception:  # noqa: BLE001 - a mail server down must not change the run's outcome
                log.exception("alert %s: %s could not send it", alert.kind, type(notifier).__name__)
