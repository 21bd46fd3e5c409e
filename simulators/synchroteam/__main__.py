"""`python -m simulators.synchroteam --host H --port P [--seed demo|empty] [--domain D] [--api-key K]
[--timezone ZONE] [--name-lookup prefix|exact]`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from simulators.synchroteam.app import create_app
from simulators.synchroteam.clock import DEFAULT_TIMEZONE
from simulators.synchroteam.errors import ApiError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.synchroteam", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--seed", choices=("empty", "demo"), default="empty")
    parser.add_argument("--domain", default="demo", help="account domain (the Basic auth user)")
    parser.add_argument("--api-key", default="demo-api-key", help="account API key (the Basic auth password)")
    parser.add_argument("--timezone", default=DEFAULT_TIMEZONE,
                        help="IANA time zone of the account (and of accounts added without one): every date-time "
                             "the API shows or reads is local time there; UTC is a lenient mode for debugging")
    parser.add_argument("--name-lookup", choices=("prefix", "exact"), default="prefix",
                        help="customer/details?name= matches the first name starting with the value, ignoring "
                             "case (prefix, the real service), or the whole name (exact, lenient)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(seed=args.seed, domain=args.domain, api_key=args.api_key, timezone=args.timezone,
                         name_lookup=args.name_lookup)
    except ApiError as exc:
        parser.error(exc.message)
    account = app.state.sim.account(None)
    print(
        f"Synchroteam simulator on http://{args.host}:{args.port} (seed {args.seed}): domain '{account.domain}', "
        f"time zone {account.timezone}, name look-up {account.name_lookup}, "
        f"{len(account.customers.by_id)} customers, {len(account.parts.by_id)} parts, "
        f"{len(account.invoices.by_id)} invoices",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
