"""A realistic run through both hooks with every log captured at DEBUG: no secret may appear anywhere.

Covered: the OAuth client secret, the Synchroteam API key, every access and refresh token that existed during
the run (read back from the token store and from the simulator's grant). Places checked: all log records
(root, ``stqbo_hooks``, ``requests``, ``urllib3``, Airflow's), exception ``str``/``repr``, ``ApiError.body``,
``ApiError.detail`` and the hooks' ``test_connection`` messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from devenv.sims import ST_TIMEZONE
from stqbo_api.errors import ApiError, AuthError, DuplicateNameError, ReauthorizationRequired
from stqbo_api.tokens import TokenStore
from stqbo_api.transport import RetryPolicy

# The hooks import Airflow, whose logging setup must run before caplog attaches its handler.
from stqbo_hooks.quickbooks import QuickBooksHook
from stqbo_hooks.synchroteam import SynchroteamHook

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
ST_DOMAIN, ST_API_KEY = "demo", "demo-api-key"
FAST = {"retry_policy": RetryPolicy(backoff_base=0.001, sleep=lambda s: None), "read_timeout": 1.0}


def _failing(errors: list[ApiError], call: Callable[[], Any]) -> ApiError:
    try:
        call()
    except ApiError as err:
        errors.append(err)
        return err
    raise AssertionError("the call was expected to fail")


def test_no_secret_in_logs_exceptions_or_error_bodies(
    qbo: Any, st: Any, qbo_conn: dict[str, str], st_conn: Any, state_db_conn: str,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("requests", "urllib3", "stqbo_hooks", "stqbo_api", "airflow"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[ApiError] = []
    messages: list[str] = []
    tokens: set[str] = {qbo_conn["refresh_token"]}
    store = TokenStore(state_db_conn, CLIENT_SECRET)

    def remember_tokens() -> None:
        loaded = store.load(qbo_conn["realm_id"], CLIENT_ID)
        assert loaded is not None
        tokens.update(t for t in (loaded.refresh_token, loaded.access_token) if t)

    # QuickBooks: first refresh, reads, writes, a record-level failure, a token expiring mid-run.
    hook = QuickBooksHook(**FAST)
    messages.append(hook.test_connection()[1])
    remember_tokens()
    created = hook.get_conn().create("Customer", {"DisplayName": "Secret Test Co"}, "req-secret-1")
    hook.get_conn().update("Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "GivenName": "S"}, "req-secret-2")
    list(hook.get_conn().query("SELECT * FROM Customer WHERE Active IN (true, false)"))
    assert isinstance(_failing(errors, lambda: hook.get_conn().create("Customer", {"DisplayName": "Secret Test Co"},
                                                           "req-secret-3")), DuplicateNameError)
    qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 3700})
    hook.get_conn().get_company_info()  # 401 -> refresh -> retry
    remember_tokens()
    qbo.admin("POST", "/_sim/faults", json={"faults": [{"path": "/companyinfo/", "action": "error", "status": 401,
                                                        "times": 2}]})
    assert isinstance(_failing(errors, hook.get_conn().get_company_info), AuthError)
    remember_tokens()
    # A second realm connection whose refresh token is refused: invalid_grant.
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_REVOKED", _revoked_conn(qbo, qbo_conn))
    revoked = QuickBooksHook("quickbooks_revoked", **FAST)
    assert isinstance(_failing(errors, revoked.get_conn().get_company_info), ReauthorizationRequired)
    messages.append(revoked.test_connection()[1])

    # Synchroteam: reads, a write, a failing call, a wrong API key.
    st_hook = SynchroteamHook(**FAST)
    messages.append(st_hook.test_connection()[1])
    st_hook.get_conn().send_customer({"myId": "QBO-1", "name": "Secret Test Co", "address": "1 Main St"})
    list(st_hook.get_conn().list_customers())
    _failing(errors, lambda: st_hook.get_conn().send_customer({"myId": "QBO-2"}))
    monkeypatch.setenv("AIRFLOW_CONN_SYNCHROTEAM_WRONG", st_conn_json(st, "wrong-api-key-123"))
    wrong = SynchroteamHook("synchroteam_wrong", **FAST)
    _failing(errors, lambda: wrong.get_conn().get_customer(id=1))
    messages.append(wrong.test_connection()[1])

    secrets = {CLIENT_SECRET, ST_API_KEY, "wrong-api-key-123", "RT1-revoked-token-0001"} | tokens
    assert len(tokens) >= 4  # the grant's refresh token plus at least one rotation and two access tokens
    printed = capsys.readouterr()
    texts = [r.getMessage() for r in caplog.records] + [caplog.text, printed.out, printed.err] + messages
    for err in errors:
        texts += [str(err), repr(err), err.message, err.body or "", err.detail or ""]
    assert len(caplog.records) > 20 and any("urllib3" in r.name for r in caplog.records)
    leaks = sorted({s for s in secrets for t in texts if s in t})
    assert leaks == [], f"secrets leaked: {[s[:4] + '...' for s in leaks]}"


def _revoked_conn(qbo: Any, grant: dict[str, str]) -> str:
    import json

    return json.dumps({
        "conn_type": "quickbooks", "host": qbo.url, "login": CLIENT_ID, "password": CLIENT_SECRET,
        "extra": {"realm_id": "9999999999", "refresh_token": "RT1-revoked-token-0001",
                  "token_url": qbo.url + "/oauth2/v1/tokens/bearer"},
    })


def st_conn_json(st: Any, api_key: str) -> str:
    import json

    return json.dumps({"conn_type": "synchroteam", "host": st.url, "login": ST_DOMAIN, "password": api_key,
                       "extra": {"timezone": ST_TIMEZONE}})


def test_no_secret_in_the_logs_of_a_full_dag_run(
    qbo: Any, st: Any, connections: dict[str, Any], sync_dag: Any,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    """The whole DAG (both hooks, token refresh, reads and writes on both sides) under dag.test()."""
    qbo.admin("POST", "/_sim/seed", json={"Customer": [{"DisplayName": "Only In QuickBooks"}]}).raise_for_status()
    st.admin("POST", "/_sim/seed", json={"customers": [{"name": "Only In Synchroteam", "address": "1 Main St"}]})
    caplog.set_level(logging.DEBUG)
    for name in ("requests", "urllib3", "stqbo_hooks", "stqbo_api", "stqbo_sync", "airflow"):
        caplog.set_level(logging.DEBUG, logger=name)
    dag_run = sync_dag.test(run_conf={"mode": "sync"})
    printed = capfd.readouterr()
    grant = connections["qbo"]
    stored = TokenStore(connections["state_db"], CLIENT_SECRET).load(grant["realm_id"], CLIENT_ID)
    assert stored is not None and stored.access_token  # the run really refreshed and used a token
    assert {r["path"].split("/")[-1] for r in qbo.requests_log()} >= {"bearer", "query"}
    secrets = {CLIENT_SECRET, ST_API_KEY, grant["refresh_token"], stored.refresh_token, stored.access_token}
    texts = [r.getMessage() for r in caplog.records] + [caplog.text, printed.out, printed.err]
    assert sum(len(t) for t in texts) > 1000, f"nothing captured from run {dag_run.run_id}"
    leaks = sorted({s for s in secrets for t in texts if s in t})
    assert leaks == [], f"secrets leaked: {[s[:4] + '...' for s in leaks]}"
