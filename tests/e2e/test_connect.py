"""`make connect` (python -m stqbo_api.connect) end to end against the QuickBooks simulator's authorize page.

The CLI runs as a real subprocess (as `make connect` runs it); the test plays the person in the browser by
fetching the printed authorize URL with `requests`, which follows the simulator's 302 to the CLI's localhost
callback. Afterwards the Airflow hook, configured only with what the CLI printed, must work from the stored tokens.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest
import requests

from devenv import sims
from stqbo_api import connect
from stqbo_api.tokens import TokenStore

REPO = connect.REPO
CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"


@dataclass
class CliRun:
    """A running `python -m stqbo_api.connect`, its output read line by line in a thread."""

    proc: subprocess.Popen[str]
    port: int
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    out: list[str] = field(default_factory=list)

    def authorize_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"CLI exited early: {self.finish()}"
                continue
            self.out.append(line)
            if line.strip().startswith("http") and "/connect/oauth2" in line:
                return line.strip()
        raise AssertionError(f"no authorize URL printed: {''.join(self.out)}")

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        rc = self.proc.wait(timeout=timeout)
        while not self.lines.empty():
            self.out.append(self.lines.get())
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return rc, "".join(self.out), err


def _start_cli(qbo: sims.SimProcess, state_db: str, *extra: str, env: dict[str, str] | None = None) -> CliRun:
    port = sims.free_port()
    cmd = [sys.executable, "-m", "stqbo_api.connect", "--authorize-url", f"{qbo.url}/connect/oauth2",
           "--token-url", f"{qbo.url}/oauth2/v1/tokens/bearer", "--redirect-port", str(port),
           "--state-db-url", state_db, "--no-browser", "--timeout", "60", *extra]
    full_env = {**os.environ, "PYTHONPATH": f"{REPO}/include:{REPO}/plugins:{REPO}",
                "QBO_CLIENT_ID": CLIENT_ID, "QBO_CLIENT_SECRET": CLIENT_SECRET, **(env or {})}
    proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE, text=True)
    run = CliRun(proc, port)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            run.lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return run


@pytest.fixture()
def cli_runs() -> Iterator[list[CliRun]]:
    """Every CLI started by a test is stopped at its end, whatever happened."""
    runs: list[CliRun] = []
    yield runs
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(timeout=10)


def _stored_rows(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('auth.qbo_oauth_token') IS NOT NULL")
            row = cur.fetchone()
            if not row or not row[0]:
                return 0
            cur.execute("SELECT count(*) FROM auth.qbo_oauth_token")
            count = cur.fetchone()
            return int(count[0]) if count else 0
    finally:
        conn.close()


def _printed_connection(output: str) -> dict[str, Any]:
    prefix = "AIRFLOW_CONN_QUICKBOOKS_DEFAULT='"
    line = next(ln.strip() for ln in output.splitlines() if ln.strip().startswith(prefix))
    return dict(json.loads(line[len(prefix):-1]))


def test_connect_against_simulator_stores_tokens_the_hook_uses(
    qbo: sims.SimProcess, state_db: str, cli_runs: list[CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _start_cli(qbo, state_db)
    cli_runs.append(run)
    url = run.authorize_url()

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{qbo.url}/connect/oauth2?")
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["scope"] == "com.intuit.quickbooks.accounting"
    assert query["redirect_uri"] == f"http://localhost:{run.port}/callback"
    assert len(query["state"]) >= 32  # random, 24 bytes

    # The person approves; the simulator redirects the browser to the CLI's callback.
    page = requests.get(url + "&auto_approve=1", timeout=30)
    assert page.status_code == 200 and "Authorised" in page.text
    assert page.url.startswith(f"http://localhost:{run.port}/callback?code=")

    rc, out, err = run.finish()
    assert rc == 0, err
    realm = parse_qs(urlsplit(page.url).query)["realmId"][0]
    assert "Connected to QuickBooks company" in out and f"realm {realm}, sandbox" in out

    # Tokens stored, encrypted, in the hook's table; none of them (nor the secret) printed.
    tokens = TokenStore(state_db, CLIENT_SECRET).load(realm, CLIENT_ID)
    assert tokens is not None and tokens.access_token and tokens.refresh_token.startswith("RT1-")
    for secret in (CLIENT_SECRET, tokens.refresh_token, tokens.access_token):
        assert secret not in out and secret not in err
    conn = psycopg2.connect(state_db)
    with conn.cursor() as cur:
        cur.execute("SELECT refresh_token_enc FROM auth.qbo_oauth_token WHERE realm_id=%s", (realm,))
        row = cur.fetchone()
    conn.close()
    assert row is not None and tokens.refresh_token not in row[0]

    printed = _printed_connection(out)
    assert printed["host"] == qbo.url and printed["login"] == CLIENT_ID
    assert printed["password"] == "<your client secret>"
    assert printed["extra"]["realm_id"] == realm and printed["extra"]["environment"] == "sandbox"
    assert printed["extra"]["token_url"] == f"{qbo.url}/oauth2/v1/tokens/bearer"
    assert "refresh_token" not in printed["extra"]

    # The hook, configured with exactly what was printed (+ the secret), works after the access token expired:
    # it must refresh with the stored refresh token.
    qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 3700}).raise_for_status()
    printed["password"] = CLIENT_SECRET
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_DEFAULT", json.dumps(printed))
    from stqbo_hooks.quickbooks import QuickBooksHook

    ok, message = QuickBooksHook(state_db_dsn=state_db).test_connection()
    assert ok, message
    assert realm in message
    refreshed = TokenStore(state_db, CLIENT_SECRET).load(realm, CLIENT_ID)
    assert refreshed is not None and refreshed.refresh_token != tokens.refresh_token  # rotated and stored


def test_https_redirect_uri_for_production_keys_is_pasted_back(
    qbo: sims.SimProcess, state_db: str, cli_runs: list[CliRun]
) -> None:
    """Production keys only accept https redirect URIs: the CLI then asks for the address the browser reached."""
    redirect = "https://connector.example.com/qbo/callback"
    run = _start_cli(qbo, state_db, "--redirect-uri", redirect, "--environment", "production")
    cli_runs.append(run)
    url = run.authorize_url()
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [redirect]
    answer = requests.get(url + "&auto_approve=1", allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and answer.headers["location"].startswith(redirect + "?code=")
    assert run.proc.stdin is not None
    run.proc.stdin.write(answer.headers["location"] + "\n")
    run.proc.stdin.flush()
    rc, out, err = run.finish()
    assert rc == 0, err
    realm = parse_qs(urlsplit(answer.headers["location"]).query)["realmId"][0]
    assert f"realm {realm}, production" in out
    assert TokenStore(state_db, CLIENT_SECRET).load(realm, CLIENT_ID) is not None
    assert _printed_connection(out)["extra"]["environment"] == "production"


def test_wrong_state_is_refused_and_nothing_stored(
    qbo: sims.SimProcess, state_db: str, cli_runs: list[CliRun]
) -> None:
    run = _start_cli(qbo, state_db)
    cli_runs.append(run)
    run.authorize_url()
    forged = requests.get(f"http://localhost:{run.port}/callback",
                          params={"code": "AB-forged", "state": "not-the-state", "realmId": "123"}, timeout=10)
    assert forged.status_code == 400
    rc, out, err = run.finish()
    assert rc == 1
    assert "`state` did not match" in err
    assert _stored_rows(state_db) == 0


def test_declined_authorisation_says_so(qbo: sims.SimProcess, state_db: str, cli_runs: list[CliRun]) -> None:
    run = _start_cli(qbo, state_db)
    cli_runs.append(run)
    url = run.authorize_url()
    # The person presses Cancel on the simulator's consent page (a form POST), which redirects with an error.
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} | {"decision": "deny"}
    page = requests.post(f"{qbo.url}/connect/oauth2", data=form, timeout=30)
    assert page.status_code == 200 and "Not connected" in page.text
    rc, out, err = run.finish()
    assert rc == 1
    assert "you declined access" in err
    assert _stored_rows(state_db) == 0


def test_bad_client_secret_is_explained(qbo: sims.SimProcess, state_db: str, cli_runs: list[CliRun]) -> None:
    run = _start_cli(qbo, state_db, env={"QBO_CLIENT_SECRET": "not-the-secret"})
    cli_runs.append(run)
    requests.get(run.authorize_url() + "&auto_approve=1", timeout=30)
    rc, out, err = run.finish()
    assert rc == 1
    assert "invalid_client" in err and "client id and secret" in err
    assert "not-the-secret" not in out + err
    assert _stored_rows(state_db) == 0


# ------------------------------------------------------------------------------------------ no network


def test_defaults_are_intuits_real_endpoints() -> None:
    args = connect.parse_args([])
    assert args.authorize_url == "https://appcenter.intuit.com/connect/oauth2"
    assert args.token_url == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert args.redirect_port == 8765 and args.environment == "sandbox"
    assert connect.default_api_url("sandbox", args.authorize_url) == "https://sandbox-quickbooks.api.intuit.com"
    assert connect.default_api_url("production", args.authorize_url) == "https://quickbooks.api.intuit.com"
    assert connect.default_api_url("sandbox", "http://127.0.0.1:8701/connect/oauth2") == "http://127.0.0.1:8701"


def test_secret_is_asked_with_getpass_never_echoed() -> None:
    asked: dict[str, str] = {}

    def visible(prompt: str) -> str:
        asked["visible"] = prompt
        return "my-client"

    def hidden(prompt: str) -> str:
        asked["hidden"] = prompt
        return "my-secret"

    args = connect.parse_args(["--state-db-url", "postgresql://u@h/db"])
    settings = connect.resolve_settings(args, {}, prompt=visible, secret_prompt=hidden)
    assert settings.client_id == "my-client" and settings.client_secret == "my-secret"
    assert "client id" in asked["visible"] and "secret" in asked["hidden"].lower()
    assert "my-secret" not in repr(settings)


def test_state_db_from_airflow_connection_env() -> None:
    env = {"AIRFLOW_CONN_SYNC_STATE_DB": json.dumps(
        {"conn_type": "postgres", "host": "db.example", "port": 5433, "login": "sync", "password": "pw",
         "schema": "sync_state"})}
    dsn, origin = connect.resolve_state_db(None, env)
    assert origin == "$AIRFLOW_CONN_SYNC_STATE_DB"
    assert "host=db.example" in dsn and "port=5433" in dsn and "dbname=sync_state" in dsn
    assert connect.redact_dsn("postgresql://sync:pw@db.example/sync_state") == "postgresql://sync:***@db.example/sync_state"


def test_the_note_names_the_mappings_of_other_companies(state_db: str) -> None:
    from stqbo_store import connect as connect_db
    from stqbo_store import migrate, tenants

    assert connect.other_tenants(state_db, "B") == []          # a state DB no run has migrated yet
    assert connect.other_tenants("postgresql://nobody@127.0.0.1:9/none", "B") == []   # unreachable: no note
    conn = connect_db(state_db)
    migrate.migrate(conn)
    tenants.ensure_tenant(conn, "demo", "A", "sandbox", "http://sim")
    tenants.ensure_tenant(conn, "demo", "B", "production", "http://sim")
    conn.commit()
    conn.close()
    assert connect.other_tenants(state_db, "B") == [("demo", "A", "sandbox")]
