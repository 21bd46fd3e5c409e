"""`make conformance` against the simulators: the simulators are the reference's reading of every fact, so every
probe must find its fact agreeing; the report files exist and hold no secret; a read-only run writes nothing;
`--write` is refused outside a sandbox company. (The check against real accounts cannot run here: this is what
keeps it working.)"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devenv import pg, sims
from devenv.airflow_base import REPO
from simulators.quickbooks.seeding import demo_payload
from stqbo_api.tokens import TokenStore
from stqbo_conformance.cli import main
from stqbo_conformance.connections import parse_connection
from stqbo_conformance.facts import FACTS

QBO_CLIENT_ID, QBO_CLIENT_SECRET = "demo-client", "demo-secret"   # as tests/conftest.py grants them
ST_DOMAIN, ST_API_KEY = "demo", "demo-api-key"

ST_CUSTOMERS = ["Smith", "Smith Plumbing", "Bayview Dental Clinic", "Golden Gate Bakery", "Harbor Lights Marina",
                "smithson & co"]
ST_STATUSES = ["draft", "new", "sent", "paid", "late", "partially paid"]


@pytest.fixture()
def accounts(qbo: sims.SimProcess, st: sims.SimProcess, qbo_grant: dict[str, str], state_db: str) -> dict[str, Any]:
    """Both simulators reset and seeded with a little of everything the probes look at, and the DAG's three
    connections as ``AIRFLOW_CONN_*`` values."""
    st.admin("POST", "/_sim/seed", json={
        "customers": [{"name": n, "address": f"{i} Main St"} for i, n in enumerate(ST_CUSTOMERS, 1)],
        "invoices": [{"customer": {"name": n}, "status": s, "lines": [{"description": s}]}
                     for n, s in zip(ST_CUSTOMERS, ST_STATUSES, strict=True)],
    }).raise_for_status()
    stored = qbo.admin("POST", "/_sim/seed", json=demo_payload()).json()
    customers = [c["Id"] for c in stored["Customer"][:3]]
    item = stored["Item"][0]["Id"]
    line = {"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}
    qbo.admin("POST", "/_sim/seed", json={"Invoice": [{"CustomerRef": {"value": c}, "Line": [line]}
                                                      for c in (*customers, customers[0])]}).raise_for_status()
    environ = {
        "AIRFLOW_CONN_QUICKBOOKS_DEFAULT": json.dumps({
            "conn_type": "quickbooks", "host": qbo.url, "login": QBO_CLIENT_ID, "password": QBO_CLIENT_SECRET,
            "extra": {"realm_id": qbo_grant["realm_id"], "refresh_token": qbo_grant["refresh_token"],
                      "token_url": qbo.url + "/oauth2/v1/tokens/bearer", "environment": "sandbox"}}),
        "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT": json.dumps({"conn_type": "synchroteam", "host": st.url, "login": ST_DOMAIN,
                                                        "password": ST_API_KEY, "extra": {"timezone": sims.ST_TIMEZONE}}),
        "AIRFLOW_CONN_SYNC_STATE_DB": pg.airflow_conn_json(state_db),
    }
    qbo.admin("DELETE", "/_sim/requests")
    st.admin("DELETE", "/_sim/requests")
    return {"environ": environ, "grant": qbo_grant, "state_db": state_db}


def run(environ: dict[str, str], out_dir: Path, *args: str) -> tuple[int, str]:
    printed = io.StringIO()
    code = main(["--out-dir", str(out_dir), *args], environ=environ, out=printed)
    return code, printed.getvalue()


def secrets_of(accounts: dict[str, Any]) -> list[str]:
    """Every credential the run held: the API key, the client secret, the first and the stored tokens."""
    grant = accounts["grant"]
    stored = TokenStore(accounts["state_db"], QBO_CLIENT_SECRET).load(grant["realm_id"], QBO_CLIENT_ID)
    assert stored is not None and stored.access_token, "the run refreshed and stored tokens"
    return [ST_API_KEY, QBO_CLIENT_SECRET, grant["refresh_token"], stored.refresh_token, stored.access_token]


def test_every_fact_agrees_with_the_simulators(accounts: dict[str, Any], qbo: sims.SimProcess, st: sims.SimProcess,
                                               tmp_path: Path) -> None:
    code, printed = run(accounts["environ"], tmp_path, "--write", "--strict")
    report = json.loads((tmp_path / "report.json").read_text())
    verdicts = {f["fact"]: f["verdict"] for f in report["facts"]}
    assert verdicts == {fact.id: "agrees" for fact in FACTS}, [
        (f["fact"], f["observed"]) for f in report["facts"] if f["verdict"] != "agrees"]
    assert code == 0
    assert report["mode"] == "read and write (QuickBooks sandbox)" and report["left_behind"] == []
    markdown = (tmp_path / "report.md").read_text()
    assert printed == markdown
    assert f"**{len(FACTS)} agree, 0 differ, 0 unknown.**" in markdown
    for fact in FACTS:
        assert f"| {fact.id} |" in markdown and f"### {fact.id}: agrees" in markdown
    for secret in secrets_of(accounts):
        assert secret not in markdown and secret not in (tmp_path / "report.json").read_text()


def test_the_writing_probes_clean_up(accounts: dict[str, Any], qbo: sims.SimProcess, st: sims.SimProcess,
                                     tmp_path: Path) -> None:
    run(accounts["environ"], tmp_path, "--write")
    state = qbo.admin("GET", "/_sim/state").json()
    probes = {c["DisplayName"].split()[-2]: c for c in state["Customer"]
              if c["DisplayName"].lower().startswith("stqbo conformance")}
    assert sorted(probes) == ["Rule", "dup", "void"]   # each made once (the variants were refused)
    assert not any(c["Active"] for c in probes.values())
    assert not any("stqbo conformance" in (i.get("PrivateNote") or "") for i in state.get("Invoice", []))
    assert "Voided" not in {i.get("PrivateNote") for i in state.get("Invoice", [])}   # the voided one deleted
    names = [c["name"] for c in st.admin("GET", "/_sim/state").json()["customers"]]
    assert sorted(names) == sorted(ST_CUSTOMERS)


def test_a_read_only_run_writes_nothing(accounts: dict[str, Any], qbo: sims.SimProcess, st: sims.SimProcess,
                                        tmp_path: Path) -> None:
    code, _ = run(accounts["environ"], tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == 0 and report["mode"] == "read-only"
    assert qbo.writes() == [] and st.writes() == []
    by_fact = {f["fact"]: f for f in report["facts"]}
    for fact in FACTS:
        found = by_fact[fact.id]
        if fact.writes:
            assert found["verdict"] == "unknown" and found["observed"].startswith("not checked"), found
        else:
            assert found["verdict"] in ("agrees", "unknown"), found
    assert by_fact["S1-changedSince"]["verdict"] == "agrees"   # the newest record brackets read-only too
    for secret in secrets_of(accounts):
        assert secret not in (tmp_path / "report.md").read_text()


def test_write_is_refused_unless_the_company_is_a_sandbox(accounts: dict[str, Any], qbo: sims.SimProcess,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    environ = dict(accounts["environ"])
    production = json.loads(environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"])
    production["extra"]["environment"] = "production"
    environ["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"] = json.dumps(production)
    code, printed = run(environ, tmp_path, "--write")
    assert code == 2 and printed == ""
    assert "--write runs only against a QuickBooks sandbox company" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()
    assert qbo.requests_log() == []


def test_connections_in_uri_form_are_read_as_airflow_reads_them() -> None:
    fields = parse_connection("quickbooks://http://demo-client:s%40cret@127.0.0.1:8701/?realm_id=42&environment=sandbox",
                              "quickbooks_default")
    assert (fields.conn_type, fields.host, fields.port, fields.login, fields.password) == (
        "quickbooks", "http://127.0.0.1", 8701, "demo-client", "s@cret")
    assert fields.extra == {"realm_id": "42", "environment": "sandbox"}
    nested = parse_connection('synchroteam://demo:key@ws.synchroteam.com?__extra__={"timezone": "Asia/Tokyo"}', "st")
    assert (nested.host, nested.extra) == ("ws.synchroteam.com", {"timezone": "Asia/Tokyo"})


@pytest.mark.slow
def test_make_conformance_runs_the_check_against_both_simulators(tmp_path: Path) -> None:
    """What `make conformance` runs by default: its own simulators with demo data, --write --strict."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("include", "plugins", "."))}
    done = subprocess.run([sys.executable, "-m", "devenv.conformance", "--out-dir", str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("# Conformance report")
    assert f"**{len(FACTS)} agree, 0 differ, 0 unknown.**" in done.stdout
    assert (tmp_path / "report.md").read_text() == done.stdout and (tmp_path / "report.json").is_file()
