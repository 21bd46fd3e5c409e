"""`make airflow`: the demo environment with Airflow itself, supervised by one long-lived process.

``serve`` is started by devenv/airflow_up.sh with ``setsid``, so it leads a new process group; everything it starts
stays in that group (nothing here starts a new session), and its pgid is written to ``var/airflow/pgid`` so that
devenv/airflow_down.sh can TERM the whole group. It

1. finds or starts PostgreSQL (devenv/pg.py; an embedded server is kept alive by this process) and recreates the
   state database ``stqbo_airflow`` (the simulators keep their data in memory, so old links would be stale);
2. starts both simulators with ``--seed demo`` on fixed ports (QuickBooks 8701, Synchroteam 8702);
3. sets the three connections as ``AIRFLOW_CONN_*`` JSON env vars (``CONNECTIONS=manual``: only the state DB, so an
   operator can connect the simulators through the UI and ``make connect`` as if they were real accounts);
4. runs ``airflow db migrate`` (SQLite metadata DB in var/airflow/airflow.db), then the API server (UI on
   http://localhost:8080), scheduler, DAG processor and triggerer; if any of them dies, it stops the rest.

``wait`` (used by airflow_up.sh) polls until the API is healthy and the DAG is listed unpaused, then prints the URL
and login. ``info`` prints them again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from devenv.airflow_base import airflow_base_env
from devenv.sims import ST_TIMEZONE

REPO = Path(__file__).resolve().parent.parent
# The defaults are what the docs name; the STQBO_AIRFLOW_* variables exist so that a test can run a second,
# isolated instance (tests/e2e/test_airflow_up.py) next to a developer's own.
VAR = Path(os.environ.get("STQBO_AIRFLOW_VAR") or REPO / "var" / "airflow").resolve()
LOGS = VAR / "logs"
SHOWN = os.path.relpath(VAR, REPO)  # for messages: var/airflow
PGID_FILE = VAR / "pgid"
STATE_DB_FILE = VAR / "state_db_url"   # read by `make connect`
INFO_FILE = VAR / "info.json"
API_PORT = int(os.environ.get("STQBO_AIRFLOW_PORT") or 8080)
QBO_PORT = int(os.environ.get("STQBO_AIRFLOW_QBO_PORT") or 8701)
ST_PORT = int(os.environ.get("STQBO_AIRFLOW_ST_PORT") or 8702)
STATE_DB_NAME = os.environ.get("STQBO_AIRFLOW_STATE_DB") or "stqbo_airflow"
LOG_SERVER_PORTS = os.environ.get("STQBO_AIRFLOW_LOG_PORTS")  # "worker,triggerer" log server ports (default 8793,8794)
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"
DAG_ID = "synchroteam_quickbooks_sync"
QBO_CLIENT = ("demo-client", "demo-secret")
ST_ACCOUNT = ("demo", "demo-api-key")
MARKER = "STQBO_AIRFLOW_RUN"  # every process of the run carries it: airflow_down.sh finds escaped ones with it
COMPONENTS = {
    "api-server": ["api-server", "--port", str(API_PORT)],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------- environment


def airflow_env(conns: dict[str, str]) -> dict[str, str]:
    """The environment of every Airflow process (Airflow reads its config once, from here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(airflow_base_env(VAR))
    env.update({
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(VAR / "passwords.json"),
        "AIRFLOW__API__PORT": str(API_PORT),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{API_PORT}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{API_PORT}/execution/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",  # the connection forms' Test button (off by default)
        "PYTHONPATH": os.pathsep.join(str(p) for p in (REPO / "include", REPO / "plugins", REPO)),
        MARKER: str(VAR),
    })
    if LOG_SERVER_PORTS:
        worker, triggerer = LOG_SERVER_PORTS.split(",")
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = worker
        env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = triggerer
    env.update(conns)
    return env


def connections(state_url: str, mode: str, grant: dict[str, str] | None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values: the state DB always; the two APIs unless the operator connects them himself."""
    from devenv import pg

    conns = {"AIRFLOW_CONN_SYNC_STATE_DB": pg.airflow_conn_json(state_url)}
    if mode == "manual" or grant is None:
        return conns
    conns["AIRFLOW_CONN_QUICKBOOKS_DEFAULT"] = json.dumps({
        "conn_type": "quickbooks", "host": f"http://127.0.0.1:{QBO_PORT}",
        "login": QBO_CLIENT[0], "password": QBO_CLIENT[1],
        "extra": {"realm_id": grant["realm_id"], "refresh_token": grant["refresh_token"],
                  "token_url": f"http://127.0.0.1:{QBO_PORT}/oauth2/v1/tokens/bearer", "environment": "sandbox"},
    })
    conns["AIRFLOW_CONN_SYNCHROTEAM_DEFAULT"] = json.dumps({
        "conn_type": "synchroteam", "host": f"http://127.0.0.1:{ST_PORT}",
        "login": ST_ACCOUNT[0], "password": ST_ACCOUNT[1], "extra": {"timezone": ST_TIMEZONE},
    })
    return conns


def write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


# ------------------------------------------------------------------------------------------- supervisor


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]


class Supervisor:
    """Starts the pieces in order, watches them, and stops them all (children first, PostgreSQL last)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.children: list[Child] = []
        self.pg_handle: Any = None
        self.stopping = False

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        child = Child(name, proc)
        self.children.append(child)
        say(f"started {name} (pid {proc.pid}, log {log.name})")
        return child

    def start_pg(self) -> str:
        from devenv import pg

        server = pg.find_or_start(REPO / "var" / "pgdata")
        self.pg_handle = server.handle
        server.drop_database(STATE_DB_NAME)
        url = server.create_database(STATE_DB_NAME)
        write_private(STATE_DB_FILE, url + "\n")
        say(f"state database {STATE_DB_NAME} (re)created on {server.origin}")
        return url

    def start_sims(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {MARKER: str(VAR)}
        for kind, port in (("quickbooks", QBO_PORT), ("synchroteam", ST_PORT)):
            self.spawn(f"{kind}-sim", [sys.executable, "-m", f"simulators.{kind}", "--host", "127.0.0.1",
                                       "--port", str(port), "--seed", "demo"], env)
        for kind, port in (("quickbooks", QBO_PORT), ("synchroteam", ST_PORT)):
            wait_http(f"http://127.0.0.1:{port}/_sim/health", f"{kind} simulator", 60, self.children)

    def grant(self) -> dict[str, str]:
        resp = requests.post(f"http://127.0.0.1:{QBO_PORT}/_sim/oauth/grant", timeout=30,
                             json={"client_id": QBO_CLIENT[0], "client_secret": QBO_CLIENT[1]})
        resp.raise_for_status()
        return dict(resp.json())

    def start_airflow(self, env: dict[str, str]) -> None:
        write_private(VAR / "passwords.json", json.dumps({ADMIN_USER: ADMIN_PASSWORD}))
        airflow = str(Path(sys.executable).with_name("airflow"))
        for old in VAR.glob("airflow.db*"):  # a fresh run history: old runs would retry against new demo data
            old.unlink()
        for old_logs in (*LOGS.glob("dag_id=*"), LOGS / "dag_processor"):  # task logs of those old runs
            shutil.rmtree(old_logs, ignore_errors=True)
        say(f"airflow db migrate (new SQLite metadata DB {SHOWN}/airflow.db)")
        migrate = self.spawn("db-migrate", [airflow, "db", "migrate"], env)
        if migrate.proc.wait() != 0:
            raise RuntimeError(f"airflow db migrate failed; see {LOGS / 'db-migrate.log'}")
        self.children.remove(migrate)
        for name, args in COMPONENTS.items():
            self.spawn(name, [airflow, *args], env)

    def serve(self) -> int:
        grant = None
        state_url = self.start_pg()
        self.start_sims()
        if self.mode == "demo":
            grant = self.grant()
        env = airflow_env(connections(state_url, self.mode, grant))
        INFO_FILE.write_text(json.dumps({"mode": self.mode, "realm_id": (grant or {}).get("realm_id")}))
        self.start_airflow(env)
        say("all started; watching")
        while not self.stopping:
            for child in self.children:
                if child.proc.poll() is not None:
                    say(f"{child.name} exited with code {child.proc.returncode}: stopping everything "
                        f"(see {SHOWN}/logs/{child.name}.log)")
                    return 1
            time.sleep(1)
        return 0

    def stop(self) -> None:
        """TERM every child, wait, KILL what is left, then stop an embedded PostgreSQL."""
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.terminate()
        # LocalExecutor workers ignore TERM and the scheduler then waits for them forever (see
        # shared/reference/airflow-3.3.md, "Stopping"): give everything 5 s, then KILL the workers.
        _wait_all(self.children, 5)
        for pid in group_workers():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        for child in self.children:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(timeout=5)
        if self.pg_handle is not None:
            say("stopping the embedded PostgreSQL")
            self.pg_handle.cleanup()
            self.pg_handle = None
        say("stopped")


def _wait_all(children: list[Child], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(c.proc.poll() is None for c in children):
        time.sleep(0.2)


def group_workers() -> list[int]:
    """LocalExecutor worker processes of this process group."""
    mine, found = os.getpgid(0), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != mine:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        if cmd.startswith("airflow worker -- LocalExecutor"):
            found.append(int(entry.name))
    return found


def wait_http(url: str, what: str, timeout: float, children: list[Child] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children or []:
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited with code {child.proc.returncode} "
                                   f"(see {SHOWN}/logs/{child.name}.log)")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer on {url} within {timeout:.0f} s")


def serve(mode: str) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    PGID_FILE.write_text(f"{os.getpgid(0)}\n")
    # Inherited by everything started from here, even what leaves the group (an embedded PostgreSQL, task
    # processes): airflow_down.sh finds leftovers by it.
    os.environ[MARKER] = str(VAR)
    sup = Supervisor(mode)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not sup.stopping:
            sup.stopping = True
            raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    code = 1
    try:
        code = sup.serve()
    except SystemExit as stop:
        code = int(stop.code or 0)
    except Exception as err:  # a failed start: say why, then clean up like a stop
        say(f"start failed: {err}")
    finally:
        sup.stopping = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's TERM must not cut the clean-up short
        sup.stop()
    return code


# ------------------------------------------------------------------------------------------- wait / info


def api_token(base: str) -> str:
    resp = requests.post(f"{base}/auth/token", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
                         timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def health(base: str) -> dict[str, str]:
    data = requests.get(f"{base}/api/v2/monitor/health", timeout=5).json()
    return {k: str((v or {}).get("status")) for k, v in data.items() if isinstance(v, dict)}


def wait_ready(started: float, timeout: float) -> int:
    """Until /api/v2/monitor/health is all healthy and the DAG is listed unpaused; prints the figures."""
    base = f"http://localhost:{API_PORT}"
    deadline = time.monotonic() + timeout
    healthy_at: float | None = None
    last = ""
    while time.monotonic() < deadline:
        if not group_alive():
            print(f"make airflow: the supervisor exited; see {SHOWN}/logs/supervisor.log", file=sys.stderr)
            return 1
        try:
            states = health(base)
            if healthy_at is None and states and all(s == "healthy" for s in states.values()):
                healthy_at = time.time()
                say(f"Airflow healthy after {healthy_at - started:.1f} s ({', '.join(sorted(states))})")
            if healthy_at is not None and dag_ready(base):
                say(f"DAG {DAG_ID} listed and unpaused after {time.time() - started:.1f} s")
                print_info()
                return 0
            now = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
            if now != last:
                say(f"waiting: {now}")
                last = now
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    print(f"make airflow: not ready within {timeout:.0f} s; see {SHOWN}/logs/", file=sys.stderr)
    return 1


def dag_ready(base: str) -> bool:
    token = api_token(base)
    resp = requests.get(f"{base}/api/v2/dags/{DAG_ID}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return resp.status_code == 200 and resp.json().get("is_paused") is False


def group_alive() -> bool:
    """The supervisor's process group still has its leader (it writes the pgid file first thing)."""
    for _ in range(50):  # the supervisor may not have written the file yet
        if PGID_FILE.exists():
            break
        time.sleep(0.1)
    try:
        pgid = int(PGID_FILE.read_text().strip())
        os.kill(pgid, 0)
    except (OSError, ValueError):
        return False
    stat = Path(f"/proc/{pgid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def print_info() -> None:
    info = json.loads(INFO_FILE.read_text()) if INFO_FILE.exists() else {}
    pgid = PGID_FILE.read_text().strip() if PGID_FILE.exists() else "?"
    print(f"""
Airflow is running (process group {pgid}).
  UI and REST API     http://localhost:{API_PORT}
  Login               user {ADMIN_USER}   password {ADMIN_PASSWORD}
  DAG                 {DAG_ID} (unpaused; runs every 20 minutes; Trigger with mode and dry_run)
  QuickBooks sim      http://127.0.0.1:{QBO_PORT}   (client {QBO_CLIENT[0]} / {QBO_CLIENT[1]})
  Synchroteam sim     http://127.0.0.1:{ST_PORT}   (domain {ST_ACCOUNT[0]}, API key {ST_ACCOUNT[1]})
  State database      {STATE_DB_NAME} (connection sync_state_db; `make connect` stores tokens there)
  Logs                {SHOWN}/logs/   (task logs under {SHOWN}/logs/dag_id=...)""")
    if info.get("mode") == "manual":
        print("  Connections         only sync_state_db is set: add quickbooks_default and synchroteam_default\n"
              "                      yourself (docs/operating.md, 'Connecting the accounts')")
    else:
        print(f"  Connections         quickbooks_default (realm {info.get('realm_id')}), synchroteam_default and "
              "sync_state_db,\n                      set as AIRFLOW_CONN_* environment variables (they override "
              "the UI's)")
    print("Stop it with: make airflow-stop")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devenv.airflow_env")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--connections", choices=("demo", "manual"), default="demo")
    w = sub.add_parser("wait")
    w.add_argument("--since", type=float, required=True)
    w.add_argument("--timeout", type=float, default=240)
    sub.add_parser("info")
    args = p.parse_args(argv)
    if args.cmd == "serve":
        return serve(args.connections)
    if args.cmd == "wait":
        return wait_ready(args.since, args.timeout)
    print_info()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
