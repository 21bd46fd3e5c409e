"""``python -m stqbo_conformance``: see ``stqbo_conformance.cli``."""

from __future__ import annotations

import sys

from stqbo_conformance.cli import main

sys.exit(main())
