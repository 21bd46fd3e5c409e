"""The DAG imports cleanly, has the contract's shape, and parses with no network and no database reachable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PARSE_OFFLINE = r"""
import json, os, socket, sys, tempfile
home = tempfile.mkdtemp()
os.environ.pop("STQBO_RETRY_DELAY_SECONDS", None)
os.environ.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                   "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:////nonexistent/dir/airflow.db",
                   "AIRFLOW_CONN_SYNC_STATE_DB": "postgresql://nobody@192.0.2.1:1/none"})
def refuse(*a, **k):
    raise OSError("network disabled for the parse test")
socket.socket.connect = refuse
socket.create_connection = refuse
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("synchroteam_quickbooks_sync")
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "found": dag is not None,
    "tasks": {t: sorted(dag.task_dict[t].downstream_task_ids) for t in dag.task_dict} if dag else {},
    "tags": sorted(dag.tags) if dag else [],
    "doc_md": bool(dag and dag.doc_md and "dry_run" in dag.doc_md),
    "schedule": str(dag.schedule) if dag else None,
    "catchup": dag.catchup if dag else None,
    "max_active_runs": dag.max_active_runs if dag else None,
    "params": {k: dag.params[k] for k in dag.params} if dag else {},
    "retries": {t.task_id: t.retries for t in dag.tasks} if dag else {},
    "owners": sorted({t.owner for t in dag.tasks}) if dag else [],
    "retry_delay_s": {t.task_id: t.retry_delay.total_seconds() for t in dag.tasks} if dag else {},
}))
"""


@pytest.fixture(scope="module")
def parsed() -> dict:
    out = subprocess.run([sys.executable, "-c", PARSE_OFFLINE, str(REPO / "dags")], capture_output=True, text=True,
                         timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dag_parses_offline_without_errors(parsed: dict) -> None:
    assert parsed["errors"] == {}
    assert parsed["found"]


def test_dag_shape_matches_the_contract(parsed: dict) -> None:
    assert parsed["tasks"] == {
        "extract_synchroteam": ["diff_and_match", "report"],
        "extract_quickbooks": ["diff_and_match", "report"],
        "diff_and_match": ["load_changes", "report"],
        "load_changes": ["push_invoices", "report"],
        "push_invoices": ["report"],
        "report": [],
    }
    assert parsed["schedule"] == "*/20 * * * *"
    assert parsed["catchup"] is False
    assert parsed["max_active_runs"] == 1
    assert parsed["params"] == {"mode": "sync", "dry_run": False}


def test_dag_has_tags_owner_retries_and_doc(parsed: dict) -> None:
    assert "quickbooks" in parsed["tags"] and "synchroteam" in parsed["tags"]
    assert parsed["owners"] == ["integrations"]
    assert parsed["doc_md"]
    work = {t: r for t, r in parsed["retries"].items() if t != "report"}
    assert work and all(r >= 2 for r in work.values())
    assert parsed["retry_delay_s"]["load_changes"] == 60
