"""The third-party virtualenv and how its clients are run (used by conftest.py and the tests here).

The clients' pins (tap-quickbooks wants requests==2.33.0, singer-python jsonschema 2.x) must not meet Airflow's, so
they live in ``var/thirdparty-venv``, built from ``requirements-thirdparty.txt`` and reused while that file (and the
Python running the tests) is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devenv.airflow_base import REPO

HERE = Path(__file__).resolve().parent
PINS = HERE / "requirements-thirdparty.txt"
DRIVERS = HERE / "drivers"
VENV_DIR = REPO / "var" / "thirdparty-venv"
STAMP = VENV_DIR / ".pins-fingerprint"
INSTALL_TIMEOUT = 600
# QuickBooks' limits per company (facts Q3; the simulator's defaults). A reset keeps whatever limits an earlier
# test set, so the clients' tests put these back: they must run under the real ones.
REAL_LIMITS = {"requests_per_second": 10, "requests_per_minute": 500, "concurrent": 10, "batch_per_minute": 40}


def pins_fingerprint() -> str:
    """What the venv was built from: the pins file and the interpreter (a new Python needs a new venv)."""
    digest = hashlib.sha256(PINS.read_bytes())
    digest.update(f"{sys.version}|{platform.machine()}".encode())
    return digest.hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run_or_fail(cmd: list[str], what: str) -> None:
    try:
        # the clients' environment (no PYTHONPATH): the project's own distributions (the editable stqbo-hooks
        # provider's metadata under plugins/) must not look installed in this venv
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
                              env=driver_env(), cwd=VENV_DIR.parent)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"third-party venv: {what} took more than {INSTALL_TIMEOUT} s: {exc}", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(f"third-party venv: {what} failed (exit {proc.returncode})\n{' '.join(cmd)}\n"
                    f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}", pytrace=False)


def build_venv(venv: Path) -> None:
    """A fresh venv with exactly the pinned packages (``pip check`` proves the pins agree with each other)."""
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _run_or_fail([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run_or_fail([*pip, "install", "-q", "-r", str(PINS)], f"pip install -r {PINS.name}")
    _run_or_fail([*pip, "check"], "pip check")


def driver_env() -> dict[str, str]:
    """The clients' environment: nothing of the project on their path; plain http allowed to the local simulator
    (OAUTHLIB_INSECURE_TRANSPORT is oauthlib's own switch; the simulator speaks http on 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_driver(python: Path, script: str, args: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``drivers/<script>`` with the venv's interpreter; a non-zero exit fails the test with its output."""
    cmd = [str(python), str(DRIVERS / script), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=driver_env(), cwd=DRIVERS,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"{script} {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n"
                    f"--- stderr\n{proc.stderr[-6000:]}", pytrace=False)
    return proc


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def reset_to_real(sim: Any) -> None:
    """An empty company on the QuickBooks simulator, under the real service's limits."""
    sim.reset()
    sim.admin("POST", "/_sim/limits", json=REAL_LIMITS).raise_for_status()
    lenient = sim.admin("GET", "/_sim/lenient").json()
    assert not any(lenient.values()), f"a lenient switch survived the reset: {lenient}"
