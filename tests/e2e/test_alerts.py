"""Alerts end to end: real DAG runs (dag.test()) send e-mail through the SMTP provider's notifier to a local SMTP
server (aiosmtpd): one message for a failed run, one for "QuickBooks must be re-authorised", one for the recovery,
and no secret in any of them."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from psycopg2.extensions import parse_dsn

from tests.conftest import QBO_CLIENT_ID, QBO_CLIENT_SECRET, ST_API_KEY, qbo_conn_json
from tests.e2e.helpers import seed_st, st_customer

BASE_URL = "http://airflow.test:8080"


class _Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.raw.append(bytes(envelope.content))
        return "250 OK"

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(raw) for raw in self.raw]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    handler = _Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"from_email": "airflow@example.com", "disable_tls": True, "disable_ssl": True, "timeout": 10}}))
    monkeypatch.setenv("AIRFLOW_VAR_STQBO_ALERT_TO", "ops@example.com")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
    try:
        yield handler
    finally:
        controller.stop()


def _text(msg: Message) -> str:
    parts = [str(msg["Subject"])]
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)


def test_one_message_per_incident_and_one_on_recovery_without_secrets(
    qbo: Any, st: Any, run_dag: Any, connections: dict[str, Any], inbox: _Inbox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_st(st, st_customer("Alert Customer"))
    run_dag(mode="upload")
    assert inbox.raw == []   # nothing was wrong: silence

    # 1. records fail: one "run failed" message; a second failed run is the same incident: nothing more
    qbo.admin("POST", "/_sim/faults", json={"faults": [
        {"method": "POST", "path": r"/customer$", "action": "error", "status": 400, "times": 0}]}).raise_for_status()
    seed_st(st, st_customer("Late Customer"))
    failed = run_dag(mode="sync", expect="failed")
    run_dag(mode="sync", expect="failed")
    assert len(inbox.raw) == 1
    qbo.admin("DELETE", "/_sim/faults").raise_for_status()

    # 2. the grant is revoked: QuickBooks answers invalid_grant: one "re-authorise" message
    grant = connections["qbo"]
    requests.post(qbo.url + "/v2/oauth2/tokens/revoke", auth=(QBO_CLIENT_ID, QBO_CLIENT_SECRET),
                  json={"token": grant["refresh_token"]}, timeout=10).raise_for_status()
    revoked = run_dag(mode="sync", expect="failed")
    assert len(inbox.raw) == 2

    # 3. a person re-authorises (a fresh token in the connection): the run succeeds: one recovery message
    fresh = dict(qbo.admin("POST", "/_sim/oauth/grant",
                           json={"client_id": QBO_CLIENT_ID, "client_secret": QBO_CLIENT_SECRET}).json())
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_DEFAULT",
                       qbo_conn_json(qbo, fresh["realm_id"], fresh["refresh_token"]))
    recovered = run_dag(mode="sync")
    run_dag(mode="sync")
    assert len(inbox.raw) == 3

    texts = [_text(m) for m in inbox.messages()]
    assert all(m["To"] == "ops@example.com" for m in inbox.messages())
    assert "run failed" in texts[0] and "What to do" in texts[0]
    assert f"{BASE_URL}/dags/synchroteam_quickbooks_sync/runs/" in texts[0] and failed.run_id in texts[0]
    assert "must be re-authorised" in texts[1] and "make connect" in texts[1] and revoked.run_id in texts[1]
    assert "recovered" in texts[2] and recovered.run_id in texts[2]

    secrets = {QBO_CLIENT_SECRET, ST_API_KEY, grant["refresh_token"], fresh["refresh_token"]}
    secrets |= {g[k] for g in (grant, fresh) for k in ("access_token",) if g.get(k)}
    if password := parse_dsn(connections["state_db"]).get("password"):
        secrets.add(password)
    everything = texts + [raw.decode("utf-8", "replace") for raw in inbox.raw]
    leaks = sorted({s for s in secrets for t in everything if s in t})
    assert leaks == [], f"secrets in the alerts: {[s[:4] + '...' for s in leaks]}"
