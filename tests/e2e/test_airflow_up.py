"""`make airflow` / `make airflow-stop` for real: a second, isolated instance (own var dir, free ports, own state
database), so it runs next to a developer's own `make airflow`.

Up: the API answers healthy, the DAG is listed unpaused with the `mode` and `dry_run` params, the URL and login are
printed. Down: no process of the instance is left, inside its process group or outside it (task processes and an
embedded PostgreSQL leave the group; they carry the run's marker variable).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devenv import pg, sims

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def marked_processes(var: Path) -> list[int]:
    """Processes whose environment carries this instance's marker."""
    needle = f"STQBO_AIRFLOW_RUN={var}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture()
def instance(tmp_path: Path) -> Iterator[dict[str, Any]]:
    ports = [sims.free_port() for _ in range(5)]
    var = (tmp_path / "airflow").resolve()
    db_name = f"stqbo_airflow_test_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {
        "STQBO_AIRFLOW_VAR": str(var),
        "STQBO_AIRFLOW_PORT": str(ports[0]),
        "STQBO_AIRFLOW_QBO_PORT": str(ports[1]),
        "STQBO_AIRFLOW_ST_PORT": str(ports[2]),
        "STQBO_AIRFLOW_LOG_PORTS": f"{ports[3]},{ports[4]}",
        "STQBO_AIRFLOW_STATE_DB": db_name,
        "PYTHONPATH": f"{REPO}/include:{REPO}/plugins:{REPO}",
    }
    info = {"env": env, "var": var, "port": ports[0], "db": db_name}
    try:
        yield info
    finally:
        down = subprocess.run([str(REPO / "devenv" / "airflow_down.sh")], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
        info["down"] = down
        for pid in marked_processes(var):  # only if the stop script itself failed: never leave anything behind
            os.kill(pid, 9)
        pg.find_or_start(REPO / "var" / "pgdata").drop_database(db_name)  # the server the instance used


def test_make_airflow_starts_healthy_and_stop_leaves_nothing(instance: dict[str, Any]) -> None:
    env, base = instance["env"], f"http://localhost:{instance['port']}"
    started = time.monotonic()
    up = subprocess.run([str(REPO / "devenv" / "airflow_up.sh")], cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=240)
    took = time.monotonic() - started
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"UI and REST API     {base}" in up.stdout
    assert "Login               user admin   password admin" in up.stdout
    assert "DAG synchroteam_quickbooks_sync listed and unpaused" in up.stdout
    print(f"make airflow ready in {took:.1f} s")

    health = requests.get(f"{base}/api/v2/monitor/health", timeout=10).json()
    assert {k: v["status"] for k, v in health.items() if isinstance(v, dict)} == {
        "metadatabase": "healthy", "scheduler": "healthy", "triggerer": "healthy", "dag_processor": "healthy"}
    token = requests.post(f"{base}/auth/token", json={"username": "admin", "password": "admin"},
                          timeout=10).json()["access_token"]
    dag = requests.get(f"{base}/api/v2/dags/synchroteam_quickbooks_sync/details",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert dag["is_paused"] is False
    assert dag["params"]["mode"]["schema"]["enum"] == ["sync", "upload", "download"]
    assert dag["params"]["dry_run"]["schema"]["type"] == "boolean"
    check_provider_over_http(base, {"Authorization": f"Bearer {token}"}, instance)

    pgid = int((instance["var"] / "pgid").read_text())
    assert marked_processes(instance["var"]), "the instance's processes carry no marker"

    down = subprocess.run([str(REPO / "devenv" / "airflow_down.sh")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "Stopped: no process of make airflow is left." in down.stdout
    assert subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True).stdout == b""
    assert marked_processes(instance["var"]) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/api/v2/monitor/health", timeout=5)


def check_provider_over_http(base: str, auth: dict[str, str], instance: dict[str, Any]) -> None:
    """The stqbo-hooks provider as the UI sees it: listed, its two connection forms with their fields, and the
    Test button (POST /api/v2/connections/test) answering from the simulators, in plain words on a bad key."""
    providers = requests.get(f"{base}/api/v2/providers", headers=auth, timeout=30).json()["providers"]
    assert "stqbo-hooks" in {p["package_name"] for p in providers}
    meta = {m["connection_type"]: m for m in requests.get(f"{base}/ui/connections/hook_meta", headers=auth,
                                                           timeout=30).json()}
    assert meta["synchroteam"]["hook_name"] == "Synchroteam" and set(meta["synchroteam"]["extra_fields"]) == {
        "timezone"}
    assert meta["quickbooks"]["hook_name"] == "QuickBooks Online"
    assert {"realm_id", "environment", "income_account_id", "item_type", "tax_codes", "invoice_statuses",
            "use_synchroteam_invoice_numbers"} <= set(meta["quickbooks"]["extra_fields"])

    def test_button(body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(f"{base}/api/v2/connections/test", headers=auth, json=body, timeout=60)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    st_form = {"connection_id": "st_form", "conn_type": "synchroteam", "login": "demo",
               "host": f"http://127.0.0.1:{instance['env']['STQBO_AIRFLOW_ST_PORT']}",
               "extra": '{"timezone": "America/New_York"}'}
    answer = test_button({**st_form, "password": "demo-api-key"})
    assert answer["status"] is True and "Connected to Synchroteam account 'demo'" in answer["message"]
    answer = test_button({**st_form, "password": "not-the-api-key"})
    assert answer["status"] is False and answer["message"].startswith("Synchroteam refused the account domain or "
                                                                      "the API key: check Account domain")
    # the preset connection, as the edit form sends it back (the stored secret is merged in by Airflow)
    qbo_url = f"http://127.0.0.1:{instance['env']['STQBO_AIRFLOW_QBO_PORT']}"
    answer = test_button({"connection_id": "quickbooks_default", "conn_type": "quickbooks", "host": qbo_url})
    assert answer["status"] is True and "Connected to QuickBooks company" in answer["message"], answer
    answer = test_button({"connection_id": "quickbooks_default", "conn_type": "quickbooks", "host": qbo_url,
                          "login": "demo-client", "password": "not-the-secret"})
    assert answer["status"] is False and answer["message"].startswith(
        "QuickBooks refused the OAuth client id or client secret"), answer
