"""Real third-party QuickBooks clients, unchanged, in their own virtualenv (issue 12 point 3).

A failed install fails every test here: a client that cannot be installed is a broken test, never a skipped one.
"""

from __future__ import annotations

import fcntl
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.thirdparty.harness import STAMP, VENV_DIR, build_venv, pins_fingerprint, venv_python


@pytest.fixture(scope="session")
def thirdparty_python() -> Iterator[Path]:
    """The interpreter of the third-party venv, built (under a file lock) only when its pins changed."""
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    wanted = pins_fingerprint()
    with open(VENV_DIR.parent / "thirdparty-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = STAMP.read_text().strip() if STAMP.exists() else None
        if have != wanted or not venv_python(VENV_DIR).exists():
            started = time.monotonic()
            build_venv(VENV_DIR)
            STAMP.write_text(wanted + "\n")
            sys.stderr.write(f"\nthird-party venv built in {time.monotonic() - started:.1f} s ({VENV_DIR})\n")
    yield venv_python(VENV_DIR)
