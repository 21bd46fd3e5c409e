"""`make conformance`: the conformance check (``python -m stqbo_conformance``) against both simulators, started
with their demo data as `make demo` starts them, and a throw-away state DB for the QuickBooks tokens. The simulators
are the reference's reading of every fact, so each one must agree: the run is ``--strict`` and ``--write`` (the
QuickBooks simulator is a sandbox). ``CONNECTIONS=env`` runs the check against the real accounts of the
``AIRFLOW_CONN_*`` variables instead (read-only unless ``ARGS=--write``): see docs/operating.md.

    python -m devenv.conformance [options of python -m stqbo_conformance]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"


def main(argv: list[str]) -> int:
    from devenv import pg, sims
    from stqbo_conformance.cli import main as conformance

    VAR.mkdir(exist_ok=True)
    started: list[Any] = []
    server = pg.find_or_start(VAR / "pgdata")
    database, state_url = server.create_temp_database("stqbo_conformance")
    try:
        qbo = sims.start("quickbooks", seed="demo", log_path=VAR / "conformance-quickbooks.log")
        started.append(qbo)
        st = sims.start("synchroteam", seed="demo", log_path=VAR / "conformance-synchroteam.log")
        started.append(st)
        print(f"simulators: QuickBooks {qbo.url}  Synchroteam {st.url}; state DB {server.origin}", file=sys.stderr)
        grant = qbo.admin("POST", "/_sim/oauth/grant",
                          json={"client_id": "demo-client", "client_secret": "demo-secret"}).json()
        environ = {
            "AIRFLOW_CONN_QUICKBOOKS_DEFAULT": json.dumps({
                "conn_type": "quickbooks", "host": qbo.url, "login": "demo-client", "password": "demo-secret",
                "extra": {"realm_id": grant["realm_id"], "refresh_token": grant["refresh_token"],
                          "token_url": qbo.url + "/oauth2/v1/tokens/bearer", "environment": "sandbox"}}),
            "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT": json.dumps({
                "conn_type": "synchroteam", "host": st.url, "login": "demo", "password": "demo-api-key",
                "extra": {"timezone": sims.ST_TIMEZONE}}),
            "AIRFLOW_CONN_SYNC_STATE_DB": pg.airflow_conn_json(state_url),
        }
        return conformance(["--write", "--strict", *argv], environ={**os.environ, **environ})
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the simulators", file=sys.stderr)
        return 130
    finally:
        for sim in started:
            sim.stop()
        server.drop_database(database)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
