#!/usr/bin/env bash
# `make airflow-stop`: stop everything `make airflow` started. TERM to the whole process group (its pgid is in
# var/airflow/pgid), wait up to 30 s, KILL what is left, then verify that no process of the group, and no process
# carrying this run's marker variable (one that left the group), remains.
set -uo pipefail
cd "$(dirname "$0")/.."
VAR=$(realpath -m "${STQBO_AIRFLOW_VAR:-var/airflow}")   # override: tests/e2e/test_airflow_up.py only
PGID_FILE=$VAR/pgid

group_pids() { pgrep -g "$1" 2>/dev/null || true; }

# True when every process left in the group is a LocalExecutor worker: they ignore TERM (see
# shared/reference/airflow-3.3.md, "Stopping") once the scheduler is gone, so waiting longer is pointless.
only_workers_left() {
    local pid cmd
    for pid in $(group_pids "$1"); do
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
        [[ $cmd == "airflow worker -- LocalExecutor"* ]] || return 1
    done
    return 0
}

# Processes whose environment carries STQBO_AIRFLOW_RUN=<this var/airflow>: ours even if they left the group.
marked_pids() {
    local f pid
    for f in /proc/[0-9]*/environ; do
        pid=${f#/proc/}; pid=${pid%/environ}
        [[ $pid == "$$" ]] && continue
        if grep -qzx "STQBO_AIRFLOW_RUN=$VAR" "$f" 2>/dev/null; then echo "$pid"; fi
    done
}

pgid=""
if [[ -f $PGID_FILE ]]; then
    pgid=$(tr -dc '0-9' <"$PGID_FILE")
fi

if [[ -n $pgid && -n $(group_pids "$pgid") ]]; then
    echo "Stopping Airflow, the simulators and the supervisor (process group $pgid) ..."
    kill -TERM -- "-$pgid" 2>/dev/null || true
    workers_only=0
    for _ in $(seq 1 60); do
        [[ -z $(group_pids "$pgid") ]] && break
        if only_workers_left "$pgid"; then
            workers_only=$((workers_only + 1))
            [[ $workers_only -ge 4 ]] && break   # 2 s more for them, then KILL
        fi
        sleep 0.5
    done
    if [[ -n $(group_pids "$pgid") ]]; then
        echo "Killing what ignored TERM (idle LocalExecutor workers, or anything stuck after 30 s): $(group_pids "$pgid" | tr '\n' ' ')"
        kill -KILL -- "-$pgid" 2>/dev/null || true
        sleep 1
    fi
else
    echo "Airflow is not running${pgid:+ (process group $pgid is gone)}."
fi

left=$(marked_pids)
if [[ -n $left ]]; then
    # Airflow runs each task in a process group of its own, so a task still running is found here.
    echo "Killing processes of this run outside the group (running tasks): $(echo "$left" | tr '\n' ' ')"
    kill -KILL $left 2>/dev/null || true
fi

remaining=""
for _ in $(seq 1 20); do   # a killed process needs a moment to be reaped
    remaining="${pgid:+$(group_pids "$pgid")} $(marked_pids)"
    [[ -z ${remaining//[[:space:]]/} ]] && break
    sleep 0.5
done
if [[ -n ${remaining//[[:space:]]/} ]]; then
    echo "make airflow-stop: processes still running: $remaining" >&2
    exit 1
fi
rm -f "$PGID_FILE"
echo "Stopped: no process of make airflow is left."
