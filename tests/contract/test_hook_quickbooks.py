"""QuickBooksClient / QuickBooksHook against the QuickBooks simulator and a real PostgreSQL token store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from stqbo_api.errors import (
    AuthError,
    DuplicateNameError,
    NotFoundError,
    ReauthorizationRequired,
    RetriableApiError,
    StaleObjectError,
    ValidationError,
)
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import QuickBooksClient, escape_query_value, validate_request_id
from stqbo_api.tokens import TokenStore
from stqbo_api.transport import PER_SECOND_WINDOW, RealmLimits, RetryPolicy, SlidingWindowLimiter

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
REPO = Path(__file__).resolve().parents[2]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


def roomy_limits(sleep: Callable[[float], None] | None = None, batch_per_minute: int = 1000) -> RealmLimits:
    """Private limits so that tests neither share nor wait on the process-wide per-realm budget.

    The batch limiter runs on a fake clock that the (recorded, not real) sleeps move forward.
    """
    now = [0.0]

    def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        if sleep:
            sleep(seconds)

    return RealmLimits(
        requests=SlidingWindowLimiter(100_000),
        batches=SlidingWindowLimiter(batch_per_minute, clock=lambda: now[0], sleep=fake_sleep),
        per_second=SlidingWindowLimiter(10, window=PER_SECOND_WINDOW),   # QuickBooks throttles at 10 a second
    )


@pytest.fixture()
def make_client(qbo: Any, qbo_grant: dict[str, str], state_db: str, sleeps: Sleeps) -> Callable[..., QuickBooksClient]:
    def _make(**options: Any) -> QuickBooksClient:
        options.setdefault("initial_refresh_token", qbo_grant["refresh_token"])
        options.setdefault("retry_policy", RetryPolicy(backoff_base=0.01, sleep=sleeps))
        options.setdefault("read_timeout", 1.0)
        options.setdefault("limits", roomy_limits())
        return QuickBooksClient(
            qbo.url, qbo_grant["realm_id"], CLIENT_ID, CLIENT_SECRET, TokenStore(state_db, CLIENT_SECRET),
            qbo.url + "/oauth2/v1/tokens/bearer", **options,
        )

    return _make


@pytest.fixture()
def client(make_client: Callable[..., QuickBooksClient]) -> QuickBooksClient:
    return make_client()


def _fault(qbo: Any, **rule: Any) -> None:
    qbo.admin("POST", "/_sim/faults", json={"faults": [rule]}).raise_for_status()


def _log(qbo: Any) -> list[dict[str, Any]]:
    """The simulator's request log with each query string parsed into a dict."""
    out = []
    for r in qbo.requests_log():
        query = r.get("query")
        if isinstance(query, str):
            query = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        out.append({**r, "query": query or {}})
    return out


def _api_calls(qbo: Any, fragment: str, method: str | None = None) -> list[dict[str, Any]]:
    return [
        r for r in _log(qbo)
        if fragment in r["path"] and "/_sim/" not in r["path"] and (method is None or r["method"] == method)
    ]


def _customer_count(qbo: Any, name: str) -> int:
    return sum(1 for c in qbo.admin("GET", "/_sim/state").json().get("Customer", []) if c["DisplayName"] == name)


# ------------------------------------------------------------------------------------------------ basics


def test_company_info_preferences_and_minorversion_on_every_call(qbo: Any, client: QuickBooksClient) -> None:
    ok, message = client.test_connection()
    assert ok and client.realm_id in message
    prefs = client.get_preferences()
    assert "SalesFormsPrefs" in prefs
    assert client.get_company_info()["CompanyName"]
    api = [r for r in _log(qbo) if r["path"].startswith("/v3/")]
    assert len(api) == 3 and all(r["query"].get("minorversion") == "75" for r in api)
    assert len(_api_calls(qbo, "/oauth2/")) == 1  # one refresh, then the access token is reused


def test_customer_create_get_sparse_update_deactivate(qbo: Any, client: QuickBooksClient) -> None:
    created = client.create("Customer", {"DisplayName": "Amy's Bird Sanctuary", "GivenName": "Amy"}, "req-c-1")
    assert created["Id"] and created["SyncToken"] == "0"
    assert client.get("Customer", created["Id"])["DisplayName"] == "Amy's Bird Sanctuary"
    updated = client.update("Customer", {"Id": created["Id"], "SyncToken": "0", "FamilyName": "Bird"}, "req-c-2")
    assert updated["FamilyName"] == "Bird" and updated["GivenName"] == "Amy" and updated["SyncToken"] == "1"
    with pytest.raises(StaleObjectError):
        client.update("Customer", {"Id": created["Id"], "SyncToken": "0", "FamilyName": "X"}, "req-c-3")
    gone = client.deactivate_customer(created["Id"], updated["SyncToken"], "req-c-4")
    assert gone["Active"] is False
    writes = _api_calls(qbo, "/customer", "POST")
    assert [w["query"].get("requestid") for w in writes] == ["req-c-1", "req-c-2", "req-c-3", "req-c-4"]
    with pytest.raises(NotFoundError):
        client.get("Customer", "987654")


def test_item_and_invoice_create_get_update_deactivate_void_delete(qbo: Any, client: QuickBooksClient) -> None:
    item = client.create("Item", {"Name": "Field Labor", "Type": "Service", "IncomeAccountRef": {"value": "1"}},
                         "req-i-1")
    assert client.get("Item", item["Id"])["Name"] == "Field Labor"
    item = client.update("Item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "UnitPrice": 85}, "req-i-2")
    assert item["UnitPrice"] == 85 and item["Type"] == "Service"
    customer = client.create("Customer", {"DisplayName": "Invoice Co"}, "req-i-3")
    line = {"Amount": 170.0, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2, "UnitPrice": 85}}
    invoice = client.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line],
                                        "PrivateNote": "ST-42"}, "req-i-4")
    assert invoice["TotalAmt"] == 170.0
    assert client.get("Invoice", invoice["Id"])["PrivateNote"] == "ST-42"
    invoice = client.update("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"],
                                        "PrivateNote": "ST-42 v2"}, "req-i-5")
    assert invoice["PrivateNote"] == "ST-42 v2" and len(invoice["Line"]) >= 1
    voided = client.void_invoice(invoice["Id"], invoice["SyncToken"], "req-i-6")
    assert voided["TotalAmt"] == 0
    deleted = client.delete_invoice(voided["Id"], voided["SyncToken"], "req-i-7")
    assert deleted["status"] == "Deleted"
    with pytest.raises(NotFoundError):
        client.get("Invoice", invoice["Id"])
    gone = client.deactivate("Item", item["Id"], item["SyncToken"], "req-i-8")
    assert gone["Active"] is False
    writes = [w for w in _log(qbo) if w["method"] == "POST" and w["path"].startswith("/v3/")]
    assert [w["query"]["requestid"] for w in writes] == [f"req-i-{n}" for n in range(1, 9)]


def test_cdc_completes_a_capped_reply(qbo: Any, client: QuickBooksClient) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    qbo.admin("POST", "/_sim/seed", json={
        "Customer": [{"DisplayName": f"Many {n:04d}"} for n in range(1001)],
        "Item": [{"Name": "Late Item", "Type": "Service", "IncomeAccountRef": {"value": "1"}}],
    }).raise_for_status()
    result = client.cdc(["Customer", "Item"], since)
    assert len(result.objects["Customer"]) == 1001 and len({c["Id"] for c in result.objects["Customer"]}) == 1001
    assert [i["Name"] for i in result.objects["Item"]] == ["Late Item"]
    assert result.truncated_entities == ["Customer"]
    assert datetime.fromisoformat(result.time) >= since


def test_request_ids_are_validated() -> None:
    assert validate_request_id("a" * 50) == "a" * 50
    for bad in ("", "a" * 51, "has space", "slash/no"):
        with pytest.raises(ValueError):
            validate_request_id(bad)


def test_duplicate_name_without_the_holders_id_then_found_by_quickbooks_rule(client: QuickBooksClient) -> None:
    """QuickBooks' 6240 usually names nobody, and names are unique ignoring case and spacing (Q1)."""
    first = client.create("Customer", {"DisplayName": "ACME  CORP"}, "req-d-1")
    with pytest.raises(DuplicateNameError) as info:
        client.create("Customer", {"DisplayName": "Acme Corp"}, "req-d-2")
    assert info.value.existing_id is None
    holder = client.find_name_holder("Acme Corp")
    assert holder is not None and (holder["_entity"], holder["Id"]) == ("Customer", first["Id"])
    assert client.find_name_holder("Acme Corporation") is None


def test_duplicate_name_is_reported_with_the_existing_id_when_quickbooks_gives_it(
        qbo: Any, client: QuickBooksClient) -> None:
    qbo.admin("POST", "/_sim/lenient", json={"duplicate_name_with_id": True}).raise_for_status()
    first = client.create("Customer", {"DisplayName": "Twin"}, "req-d-1")
    with pytest.raises(DuplicateNameError) as info:
        client.create("Customer", {"DisplayName": "Twin"}, "req-d-2")
    assert info.value.existing_id == first["Id"]


def test_query_pages_escapes_and_counts(qbo: Any, make_client: Callable[..., QuickBooksClient]) -> None:
    client = make_client(page_size=5)
    qbo.admin("POST", "/_sim/seed", json={"Customer": [{"DisplayName": f"Paged {n:02d}"} for n in range(12)]})
    qbo.admin("DELETE", "/_sim/requests")
    rows = list(client.query("SELECT * FROM Customer WHERE Active IN (true, false)"))
    assert sorted(r["DisplayName"] for r in rows) == [f"Paged {n:02d}" for n in range(12)]
    pages = [r["query"]["query"] for r in _api_calls(qbo, "/query")]
    assert len(pages) == 3 and "STARTPOSITION 6 MAXRESULTS 5" in pages[1]
    assert client.count("SELECT * FROM Customer WHERE Active IN (true, false)") == 12
    with pytest.raises(ValueError):
        list(client.query("SELECT * FROM Customer MAXRESULTS 10"))
    ids = ", ".join(f"'{n}'" for n in range(1, 400))  # too long for a URL: sent as a POST body
    assert len(list(client.query(f"SELECT * FROM Customer WHERE Id IN ({ids})"))) == 12
    assert _api_calls(qbo, "/query", "POST")
    assert escape_query_value("Amy's") == "Amy\\'s" and escape_query_value("a\\b") == "a\\\\b"


def test_find_by_display_name_covers_vendors_employees_and_inactive(qbo: Any, client: QuickBooksClient) -> None:
    qbo.admin("POST", "/_sim/seed", json={
        "Customer": [{"DisplayName": "O'Brien & Sons"}, {"DisplayName": "Other"}],
        "Vendor": [{"DisplayName": "Shared Name"}],
        "Employee": [{"DisplayName": "Shy Employee", "GivenName": "Shy"}],
    }).raise_for_status()
    obrien = client.find_by_display_name("O'Brien & Sons")
    assert [(r["_entity"], r["DisplayName"]) for r in obrien] == [("Customer", "O'Brien & Sons")]
    assert [r["_entity"] for r in client.find_by_display_name("Shared Name")] == ["Vendor"]
    assert [r["_entity"] for r in client.find_by_display_name("Shy Employee")] == ["Employee"]
    assert client.find_by_display_name("Nobody") == []
    inactive = client.create("Customer", {"DisplayName": "Sleeping"}, "req-f-1")
    client.deactivate_customer(inactive["Id"], inactive["SyncToken"], "req-f-2")
    found = {r["Id"]: r for r in client.find_by_display_name("Sleeping")}
    found.update({r["Id"]: r for r in client.find_by_display_name("Sleeping (deleted)")})
    assert inactive["Id"] in found and found[inactive["Id"]]["Active"] is False


def test_cdc_returns_changes_and_a_watermark(client: QuickBooksClient) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    created = client.create("Customer", {"DisplayName": "Changed Co"}, "req-cdc-1")
    result = client.cdc(["Customer", "Invoice"], since)
    assert [c["Id"] for c in result.objects["Customer"]] == [created["Id"]]
    assert result.objects["Invoice"] == []
    assert datetime.fromisoformat(result.time) >= since
    later = client.cdc(["Customer"], datetime.fromisoformat(result.time) + timedelta(seconds=1))
    assert later.objects["Customer"] == []


def test_batch_splits_into_30s_and_reports_item_errors(qbo: Any, client: QuickBooksClient) -> None:
    client.create("Customer", {"DisplayName": "Batch 07"}, "req-b-0")
    qbo.admin("DELETE", "/_sim/requests")
    items = [
        {"bId": f"b{n}", "operation": "create", "Customer": {"DisplayName": f"Batch {n:02d}"}} for n in range(35)
    ]
    results = client.batch(items, request_id_prefix="run1-batch")
    calls = _api_calls(qbo, "/batch")
    assert len(calls) == 2 and [c["query"]["requestid"] for c in calls] == ["run1-batch-0", "run1-batch-1"]
    assert set(results) == {f"b{n}" for n in range(35)}
    assert isinstance(results["b7"].error, DuplicateNameError)
    ok = [r for r in results.values() if r.ok]
    assert len(ok) == 34 and all(r.entity == "Customer" and r.obj and r.obj["Id"] for r in ok)
    with pytest.raises(ValueError):
        client.batch([{"bId": "x"}, {"bId": "x"}])


def test_batch_limit_is_applied_client_side(make_client: Callable[..., QuickBooksClient]) -> None:
    waits: list[float] = []
    client = make_client(limits=roomy_limits(sleep=waits.append, batch_per_minute=1))
    items = [{"bId": f"q{n}", "Query": "SELECT * FROM Customer"} for n in range(31)]
    results = client.batch(items)
    assert all(r.entity == "QueryResponse" for r in results.values())
    assert len(waits) == 1 and 0 < waits[0] <= 60  # the second batch request had to wait for the window


# ------------------------------------------------------------------------------------------------ faults


def test_503_twice_then_success(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    client.get_company_info()
    _fault(qbo, path="/companyinfo/", action="error", status=503, times=2)
    qbo.admin("DELETE", "/_sim/requests")
    assert client.get_company_info()["CompanyName"]
    assert [r["status"] for r in _api_calls(qbo, "/companyinfo/")] == [503, 503, 200]
    assert len(sleeps) == 2


def test_429_honours_retry_after(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    client.get_company_info()
    _fault(qbo, path="/query", action="throttle", status=429, retry_after=4, times=1)
    assert list(client.query("SELECT * FROM Customer")) == []
    assert sleeps == [4.0]


def test_429_without_retry_after_waits_out_a_minute_window(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    """QuickBooks throttles with no Retry-After: six 429s in a row still end in success, after waits that add up
    to more than a minute (a per-minute budget has room again), each at least half its step."""
    client.get_company_info()
    _fault(qbo, path="/query", action="throttle", status=429, times=6)
    qbo.admin("DELETE", "/_sim/requests")
    assert list(client.query("SELECT * FROM Customer")) == []
    assert [r["status"] for r in _api_calls(qbo, "/query")] == [429] * 6 + [200]
    assert len(sleeps) == 6 and sum(sleeps) > 60
    assert all(s >= step / 2 for s, step in zip(sleeps, (2, 4, 8, 16, 32, 60), strict=True))


def test_timeout_is_retried(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    client.get_company_info()
    _fault(qbo, path="/preferences", action="timeout", delay=3, times=1)
    assert "SalesFormsPrefs" in client.get_preferences()
    assert len(sleeps) == 1


def test_other_4xx_are_not_retried(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    qbo.admin("DELETE", "/_sim/requests")
    with pytest.raises(ValidationError):
        client.create("Customer", {"DisplayName": "Bad: colon"}, "req-v-1")
    assert len(_api_calls(qbo, "/customer", "POST")) == 1 and sleeps == []


def test_lost_create_reply_is_retried_with_the_same_request_id(qbo: Any, client: QuickBooksClient) -> None:
    client.get_company_info()
    _fault(qbo, method="POST", path="/customer$", action="drop_after_commit", times=1)
    created = client.create("Customer", {"DisplayName": "Exactly Once"}, "req-once-1")
    assert created["DisplayName"] == "Exactly Once"
    assert _customer_count(qbo, "Exactly Once") == 1
    posts = _api_calls(qbo, "/customer", "POST")
    assert len(posts) == 2 and {p["query"]["requestid"] for p in posts} == {"req-once-1"}


def test_access_token_expiring_mid_run_is_refreshed_once(qbo: Any, client: QuickBooksClient) -> None:
    client.get_company_info()
    qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 3700})
    qbo.admin("DELETE", "/_sim/requests")
    assert client.get_company_info()["CompanyName"]
    statuses = [(r["path"].split("/")[-1], r["status"]) for r in qbo.requests_log() if "/_sim/" not in r["path"]]
    assert [s for _, s in statuses] == [401, 200, 200] and "bearer" in statuses[1][0]


def test_access_token_is_refreshed_shortly_before_it_expires(
    qbo: Any, make_client: Callable[..., QuickBooksClient]
) -> None:
    eager = make_client(refresh_margin=timedelta(minutes=61))  # a 60-minute token is always "about to expire"
    eager.get_company_info()
    eager.get_company_info()
    assert [r["status"] for r in _api_calls(qbo, "/oauth2/")] == [200, 200]
    assert [r["status"] for r in _api_calls(qbo, "/companyinfo/")] == [200, 200]  # no 401 needed


def test_a_persistent_401_is_raised_after_one_refresh(qbo: Any, client: QuickBooksClient) -> None:
    client.get_company_info()
    _fault(qbo, path="/companyinfo/", action="error", status=401, times=2)
    qbo.admin("DELETE", "/_sim/requests")
    with pytest.raises(AuthError):
        client.get_company_info()
    assert len(_api_calls(qbo, "/oauth2/")) == 1 and len(_api_calls(qbo, "/companyinfo/")) == 2


_SECOND_PROCESS = """
import json, sys
from stqbo_api.quickbooks import QuickBooksClient
from stqbo_api.tokens import TokenStore
a = json.loads(sys.argv[1])
c = QuickBooksClient(a["url"], a["realm"], "demo-client", "demo-secret", TokenStore(a["dsn"], "demo-secret"),
                     a["url"] + "/oauth2/v1/tokens/bearer", initial_refresh_token=a["initial"])
print(c.get_company_info()["CompanyName"])
"""


def test_rotated_refresh_token_is_picked_up_from_the_db_by_another_process(
    qbo: Any, qbo_grant: dict[str, str], state_db: str, client: QuickBooksClient
) -> None:
    client.get_company_info()  # process 1 refreshes: the grant's token is rotated out, the new one stored
    stored = TokenStore(state_db, CLIENT_SECRET).load(qbo_grant["realm_id"], CLIENT_ID)
    assert stored is not None and stored.refresh_token != qbo_grant["refresh_token"]
    qbo.admin("POST", "/_sim/clock", json={"advance_seconds": 26 * 3600})  # the old token's grace is over
    args = {"url": qbo.url, "realm": qbo_grant["realm_id"], "dsn": state_db, "initial": qbo_grant["refresh_token"]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", _SECOND_PROCESS, json.dumps(args)], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    refreshes = _api_calls(qbo, "/oauth2/")
    assert [r["status"] for r in refreshes] == [200, 200]  # no invalid_grant on the way
    newest = TokenStore(state_db, CLIENT_SECRET).load(qbo_grant["realm_id"], CLIENT_ID)
    assert newest is not None and newest.refresh_token != stored.refresh_token


def test_invalid_grant_says_the_connection_must_be_reauthorised(make_client: Callable[..., QuickBooksClient]) -> None:
    client = make_client(initial_refresh_token="RT1-not-a-real-token-000")
    with pytest.raises(ReauthorizationRequired) as info:
        client.get_company_info()
    assert "re-authorised" in info.value.message and "make connect" in info.value.message
    ok, message = client.test_connection()
    assert not ok and "re-authorised" in message


def test_retriable_failure_gives_up_after_five_attempts(qbo: Any, client: QuickBooksClient, sleeps: Sleeps) -> None:
    client.get_company_info()
    _fault(qbo, path="/preferences", action="error", status=502, times=0)
    with pytest.raises(RetriableApiError):
        client.get_preferences()
    assert len(sleeps) == 4


# ------------------------------------------------------------------------------------------------ Airflow


def test_hook_from_airflow_connections(qbo_conn: dict[str, str], state_db_conn: str) -> None:
    from stqbo_hooks.quickbooks import QuickBooksHook

    hook = QuickBooksHook()
    ok, message = hook.test_connection()
    assert ok, message
    assert hook.get_conn().realm_id == qbo_conn["realm_id"] and hook.get_conn().use_synchroteam_invoice_numbers is False
    assert hook.get_conn().environment == "sandbox"
    created = hook.get_conn().create("Customer", {"DisplayName": "Via Hook"}, "req-hook-1")
    assert [r["Id"] for r in hook.get_conn().find_by_display_name("Via Hook")] == [created["Id"]]
    behaviour = QuickBooksHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["password"] == "OAuth client secret"


def test_hook_reports_a_missing_realm(monkeypatch: pytest.MonkeyPatch, state_db_conn: str) -> None:
    from stqbo_hooks.quickbooks import QuickBooksHook

    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_BROKEN", json.dumps(
        {"conn_type": "quickbooks", "host": "http://127.0.0.1:9", "login": "x", "password": "very-secret-x"}))
    ok, message = QuickBooksHook("quickbooks_broken").test_connection()
    assert not ok and "realm_id" in message and "very-secret-x" not in message


def test_hook_parses_the_invoice_options_once_and_names_a_bad_one(monkeypatch: pytest.MonkeyPatch,
                                                                   state_db_conn: str) -> None:
    from stqbo_api.errors import ConfigurationError
    from stqbo_hooks.quickbooks import QuickBooksHook

    def conn(**extra: Any) -> str:
        return json.dumps({"conn_type": "quickbooks", "host": "http://127.0.0.1:9", "login": "x",
                           "password": "very-secret-x", "extra": {"realm_id": "1", **extra}})

    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_OPTS", conn(item_type="NonInventory", tax_codes='{"VAT": "3"}',
                                                            income_account_id=2, use_synchroteam_invoice_numbers="yes"))
    client = QuickBooksHook("quickbooks_opts").get_conn()
    assert client.options == QuickBooksOptions(True, "2", "NonInventory", {"VAT": "3"})
    assert client.use_synchroteam_invoice_numbers is True
    monkeypatch.setenv("AIRFLOW_CONN_QUICKBOOKS_OPTS", conn(item_type="Inventory"))
    with pytest.raises(ConfigurationError, match="item_type of the QuickBooks connection 'quickbooks_opts'"):
        QuickBooksHook("quickbooks_opts").get_conn()
    ok, message = QuickBooksHook("quickbooks_opts").test_connection()
    assert not ok and "item_type" in message and "very-secret-x" not in message


def _qbo_conn_variant(monkeypatch: pytest.MonkeyPatch, conn_id: str, **changes: Any) -> None:
    """The test's quickbooks_default connection under another id, with some fields changed."""
    conn = json.loads(os.environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"])
    extra = {**conn["extra"], **changes.pop("extra", {})}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, **changes, "extra": extra}))


def test_hook_test_button_says_in_plain_words_that_the_client_secret_is_wrong(
    qbo_conn: dict[str, str], state_db_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stqbo_hooks.quickbooks import QuickBooksHook

    _qbo_conn_variant(monkeypatch, "quickbooks_wrong_secret", password="wrong-secret-5519")
    ok, message = QuickBooksHook("quickbooks_wrong_secret").test_connection()
    assert not ok
    assert message.startswith("QuickBooks refused the OAuth client id or client secret: check OAuth client id and "
                              "OAuth client secret (Intuit developer portal")
    assert "wrong-secret-5519" not in message and qbo_conn["refresh_token"] not in message


def test_hook_test_button_with_a_wrong_secret_and_no_token_in_the_connection_suspects_the_secret(
    qbo_conn: dict[str, str], state_db_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `make connect` the connection holds no refresh token: a mistyped secret cannot decrypt the stored
    one, so the message must not only say "re-authorise"."""
    from stqbo_hooks.quickbooks import QuickBooksHook

    assert QuickBooksHook().test_connection()[0]  # stores the tokens, encrypted with the right secret
    _qbo_conn_variant(monkeypatch, "quickbooks_after_connect", password="wrong-secret-5519",
                      extra={"refresh_token": None})
    ok, message = QuickBooksHook("quickbooks_after_connect").test_connection()
    assert not ok and "OAuth client secret" in message and "make connect" in message
    assert qbo_conn["realm_id"] in message and "wrong-secret-5519" not in message


def test_hook_test_button_names_a_realm_the_server_does_not_know(
    qbo_conn: dict[str, str], state_db_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stqbo_hooks.quickbooks import QuickBooksHook

    ok, message = QuickBooksHook().test_connection()
    assert ok and message.startswith("Connected to QuickBooks company '") and qbo_conn["realm_id"] in message
    _qbo_conn_variant(monkeypatch, "quickbooks_wrong_realm", extra={"realm_id": "4620816365000000"})
    ok, message = QuickBooksHook("quickbooks_wrong_realm").test_connection()
    assert not ok and "4620816365000000" in message and "Realm ID" in message, message


def test_hook_test_button_names_the_host_it_cannot_reach_without_long_retries(
    qbo_conn: dict[str, str], state_db_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from devenv.sims import free_port
    from stqbo_hooks.quickbooks import QuickBooksHook

    assert QuickBooksHook().test_connection()[0]  # a valid access token is stored: the API call is what fails
    url = f"http://127.0.0.1:{free_port()}"
    _qbo_conn_variant(monkeypatch, "quickbooks_nowhere", host=url)
    started = time.monotonic()
    ok, message = QuickBooksHook("quickbooks_nowhere").test_connection()
    assert not ok and message.startswith(f"Could not reach QuickBooks at {url} ") and "API base URL" in message
    assert time.monotonic() - started < 5


def test_provider_info_declares_the_connection_form() -> None:
    from stqbo_hooks.connections import get_provider_info

    types = {t["connection-type"]: t for t in get_provider_info()["connection-types"]}
    fields = types["quickbooks"]["conn-fields"]
    assert {"realm_id", "environment", "refresh_token", "token_url", "use_synchroteam_invoice_numbers",
            "income_account_id", "item_type", "tax_codes", "invoice_statuses"} <= set(fields)
    assert fields["refresh_token"]["schema"]["format"] == "password"
    assert types["synchroteam"]["hook-class-name"] == "stqbo_hooks.synchroteam.SynchroteamHook"
