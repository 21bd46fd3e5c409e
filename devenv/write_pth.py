"""Put include/, plugins/ and the repo root on the venv's sys.path (a .pth file), so that pytest, `airflow dags
test`, `airflow standalone` and plain `python -m` all import the project the same way."""

from __future__ import annotations

import sysconfig
from pathlib import Path

repo = Path(__file__).resolve().parent.parent
pth = Path(sysconfig.get_paths()["purelib"]) / "stqbo_project.pth"
pth.write_text("".join(f"{repo / d}\n" for d in ("include", "plugins", ".")))
