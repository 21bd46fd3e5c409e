"""`python -m simulators.quickbooks --host H --port P [--seed demo|empty]`: one uvicorn worker, state in memory."""

from __future__ import annotations

import argparse
import base64
import logging

import uvicorn

from simulators.quickbooks.app import create_app

log = logging.getLogger("simulators.quickbooks")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.quickbooks", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", choices=("empty", "demo"), default="empty")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_app(args.seed)
    if args.seed == "demo":
        sim = app.sim  # type: ignore[attr-defined]
        grant = sim.oauth.grant("demo-client", "demo-secret", sim.default_realm_id)
        basic = base64.b64encode(b"demo-client:demo-secret").decode()
        # A demo convenience for a local fake company: this refresh token unlocks nothing real.
        print(f"QuickBooks simulator demo company: realm_id={sim.default_realm_id} refresh_token={grant}", flush=True)
        print(f"client: demo-client / demo-secret (Basic {basic})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
