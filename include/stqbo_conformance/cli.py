"""``python -m stqbo_conformance``: check real accounts against what the simulators assume, and write the report.

    python -m stqbo_conformance [--write] [--quickbooks-conn C] [--synchroteam-conn C] [--state-db-url DSN]
        [--out-dir var/conformance] [--markdown PATH] [--json PATH] [--show-names] [--strict] [-v]

The connections are the DAG's: ``AIRFLOW_CONN_QUICKBOOKS_DEFAULT``, ``AIRFLOW_CONN_SYNCHROTEAM_DEFAULT`` and
``AIRFLOW_CONN_SYNC_STATE_DB`` (Airflow's JSON or URI form), or the same forms given as options. The state DB
is needed because QuickBooks tokens live there (encrypted) and rotate: the check must refresh them where the DAG
reads them. Without ``--write`` nothing is written to either account. ``--write`` is refused unless the
QuickBooks connection is a sandbox company; it then also creates (and deletes) one customer in the Synchroteam
account, so use a trial account there.

Exit status: 0 when the check ran (whatever it found), 1 with ``--strict`` when a fact does not agree (the
simulator run of ``make conformance`` uses it), 2 when the connections cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from stqbo_api.errors import ConfigurationError
from stqbo_api.redact import scrub
from stqbo_conformance import report as reports
from stqbo_conformance.connections import (
    QUICKBOOKS_ENV,
    STATE_DB_ENV,
    SYNCHROTEAM_ENV,
    ConnectionProblem,
    from_environment,
    is_sandbox,
    parse_connection,
    quickbooks_client,
    state_db_dsn,
    synchroteam_access,
)
from stqbo_conformance.context import Context
from stqbo_conformance.runner import run
from stqbo_conformance.wire import QuickBooksWire, SynchroteamWire

DEFAULT_OUT = Path("var") / "conformance"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m stqbo_conformance",
        description="Check a real Synchroteam account and QuickBooks company against the facts the simulators "
        "assume, and write a report (Markdown and JSON) to send to the project.")
    p.add_argument("--write", action="store_true",
                   help="also run the probes that create records (QuickBooks sandbox companies only; one Synchroteam "
                   "customer is created and deleted: use a trial account) and the throttling burst")
    p.add_argument("--quickbooks-conn", help=f"the QuickBooks connection (Airflow JSON or URI); default ${QUICKBOOKS_ENV}")
    p.add_argument("--synchroteam-conn", help=f"the Synchroteam connection; default ${SYNCHROTEAM_ENV}")
    p.add_argument("--state-db-url", help=f"the state database holding the QuickBooks tokens (PostgreSQL URL or "
                   f"connection); default ${STATE_DB_ENV}")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"where report.md and report.json go "
                   f"(default {DEFAULT_OUT})")
    p.add_argument("--markdown", type=Path, help="path of the Markdown report (default OUT_DIR/report.md)")
    p.add_argument("--json", type=Path, help="path of the JSON report (default OUT_DIR/report.json)")
    p.add_argument("--show-names", action="store_true",
                   help="show the accounts' customer names in the report (masked by default)")
    p.add_argument("--strict", action="store_true", help="exit 1 unless every fact agrees")
    p.add_argument("-v", "--verbose", action="store_true", help="log each probe and request problem")
    return p.parse_args(argv)


def build_context(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Context, dict[str, Any]]:
    """The clients from the connections; ``ConnectionProblem``/``ConfigurationError`` when they cannot be used."""
    qbo_value = args.quickbooks_conn or from_environment(environ, QUICKBOOKS_ENV)
    st_value = args.synchroteam_conn or from_environment(environ, SYNCHROTEAM_ENV)
    if not qbo_value and not st_value:
        raise ConnectionProblem(f"no connection given: set {QUICKBOOKS_ENV} and {SYNCHROTEAM_ENV} (as for the DAG) "
                                "or pass --quickbooks-conn/--synchroteam-conn")
    ctx = Context(write=args.write, show_names=args.show_names)
    targets: dict[str, Any] = {}
    if qbo_value:
        client = quickbooks_client(parse_connection(qbo_value, "quickbooks_default"), _state_db(args, environ))
        ctx.qbo, ctx.qbo_wire = client, QuickBooksWire(client)
        targets["quickbooks"] = {"host": client.base_url, "environment": client.environment,
                                 "realm_id": client.realm_id}
    if st_value:
        access = synchroteam_access(parse_connection(st_value, "synchroteam_default"))
        ctx.st, ctx.st_wire = access.client, SynchroteamWire(access.base_url, access.domain, access.api_key)
        targets["synchroteam"] = {"host": access.base_url, "domain": access.domain,
                                  "timezone": access.client.timezone}
    if args.write and (ctx.qbo is None or not is_sandbox(ctx.qbo)):
        where = f"'{ctx.qbo.environment}' at {ctx.qbo.base_url}" if ctx.qbo else "not given"
        raise ConnectionProblem(f"--write runs only against a QuickBooks sandbox company (extra \"environment\": "
                                f"\"sandbox\", not Intuit's production host); the QuickBooks connection is {where}")
    return ctx, targets


def _state_db(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    value = args.state_db_url or from_environment(environ, STATE_DB_ENV)
    if not value:
        raise ConnectionProblem(f"the QuickBooks tokens are in the state database: set {STATE_DB_ENV} (the DAG's "
                                "sync_state_db) or pass --state-db-url")
    text = value.strip()
    return state_db_dsn(parse_connection(text, "sync_state_db")) if text.startswith("{") else text


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx, targets = build_context(args, os.environ if environ is None else environ)
    except (ConnectionProblem, ConfigurationError, ValueError) as err:
        print(f"stqbo_conformance: {scrub(str(err), limit=500)}", file=sys.stderr)
        return 2
    report = run(ctx, targets)
    markdown_path = args.markdown or args.out_dir / "report.md"
    json_path = args.json or args.out_dir / "report.json"
    text = reports.write(report, markdown_path, json_path)
    out.write(text)
    print(f"\nWritten: {markdown_path} and {json_path}", file=sys.stderr)
    agrees = all(str(f.observation.verdict) == "agrees" for f in report.findings)
    return 1 if args.strict and not agrees else 0
