#!/usr/bin/env bash
# `make airflow`: start PostgreSQL (if needed), both simulators with demo data and Airflow (API server + UI on
# http://localhost:8080, scheduler, DAG processor, triggerer) in ONE new process group, wait until the API is
# healthy and the DAG is listed unpaused, then print the URL and the login. `make airflow-stop` stops the group.
#
#   make airflow                       connections preset for the simulators (AIRFLOW_CONN_* env vars)
#   make airflow CONNECTIONS=manual    only sync_state_db preset: connect the accounts yourself (docs/operating.md)
#
# Everything is supervised by `python -m devenv.airflow_env serve`; its log is var/airflow/logs/supervisor.log.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR=${STQBO_AIRFLOW_VAR:-var/airflow}   # STQBO_AIRFLOW_* overrides: for tests/e2e/test_airflow_up.py only
PY=.venv/bin/python
CONNECTIONS=${CONNECTIONS:-demo}
export PYTHONPATH="$PWD/include:$PWD/plugins:$PWD"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

case "$CONNECTIONS" in demo|manual) ;; *) echo "CONNECTIONS must be demo or manual, not '$CONNECTIONS'" >&2; exit 2;; esac

if [[ -f $VAR/pgid ]] && kill -0 -- "-$(cat $VAR/pgid)" 2>/dev/null; then
    echo "Airflow is already running (process group $(cat $VAR/pgid)); stop it first with: make airflow-stop"
    "$PY" -m devenv.airflow_env info
    exit 0
fi

busy=""
for port in "${STQBO_AIRFLOW_PORT:-8080}" "${STQBO_AIRFLOW_QBO_PORT:-8701}" "${STQBO_AIRFLOW_ST_PORT:-8702}"; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then busy="$busy $port"; fi
done
if [[ -n $busy ]]; then
    echo "make airflow: port(s)$busy already in use; stop what listens there (make airflow-stop?) and retry" >&2
    exit 1
fi

mkdir -p "$VAR/logs"
rm -f "$VAR/pgid"
started=$(date +%s.%N)
echo "Starting PostgreSQL (if needed), the simulators and Airflow in the background (first start: about a minute)."
echo "Progress: $VAR/logs/supervisor.log"
# setsid: a new process group led by the supervisor; every process it starts stays in that group.
setsid "$PY" -m devenv.airflow_env serve --connections "$CONNECTIONS" \
    >>"$VAR/logs/supervisor.log" 2>&1 </dev/null &

if ! "$PY" -m devenv.airflow_env wait --since "$started"; then
    echo "--- last lines of $VAR/logs/supervisor.log:" >&2
    tail -n 20 "$VAR/logs/supervisor.log" >&2 || true
    devenv/airflow_down.sh >&2 || true
    exit 1
fi
