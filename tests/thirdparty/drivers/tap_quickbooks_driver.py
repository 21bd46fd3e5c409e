"""singer tap-quickbooks 2.5.0, run as its ``tap-quickbooks`` command would run it, against the simulator.

Runs in the third-party venv (tests/thirdparty/harness.py). Usage:
``python tap_quickbooks_driver.py SIM_URL [tap arguments: --config C --discover | --catalog K --state S]``;
singer messages go to stdout, the tap's log to stderr, exactly as with the console script.

tap-quickbooks has no setting for its hosts: ``tap_quickbooks.client`` holds the API base
(``SANDBOX_ENDPOINT_BASE``, chosen by the config's ``"sandbox": true``) and the token URL (``TOKEN_REFRESH_URL``)
as module constants, read at call time. This driver therefore sets those two constants to the simulator before
calling the tap's own ``main()``; that is the only change, and nothing else in the tap or its libraries is
touched. (OAUTHLIB_INSECURE_TRANSPORT=1 in the environment lets oauthlib refresh over the simulator's plain http.)
"""

from __future__ import annotations

import sys

import tap_quickbooks
import tap_quickbooks.client


def main() -> None:
    sim_url, tap_args = sys.argv[1], sys.argv[2:]
    # the tap offers no configuration for these (see the module docstring): point them at the simulator
    tap_quickbooks.client.SANDBOX_ENDPOINT_BASE = sim_url
    tap_quickbooks.client.TOKEN_REFRESH_URL = sim_url + "/oauth2/v1/tokens/bearer"
    sys.argv = ["tap-quickbooks", *tap_args]
    tap_quickbooks.main()


if __name__ == "__main__":
    main()
