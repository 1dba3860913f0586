"""Writes `_sync.py` from `_async.py`: one source for both clients (httpcore's approach).

Run `python -m conneskills.client._unasync` after changing `_async.py`;
tests/cli/test_client.py fails while `_sync.py` is stale.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
HEADER = (
    '"""The synchronous client: `Client` and its resources. Generated from `_async.py` by\n'
    "`python -m conneskills.client._unasync`: edit `_async.py`, never this file.\n"
)
REPLACEMENTS = [
    ("import asyncio\n", ""),
    ("await asyncio.sleep(", "time.sleep("),
    ("async def ", "def "),
    ("async for ", "for "),
    ("async with ", "with "),
    ("await ", ""),
    ("AsyncIterator", "Iterator"),
    ("httpx.AsyncClient", "httpx.Client"),
    ("httpx.AsyncBaseTransport", "httpx.BaseTransport"),
    ("aiter_lines()", "iter_lines()"),
    ("aread()", "read()"),
    ("aclose()", "close()"),
    ("def aclose(", "def close("),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
]


def generate() -> str:
    source = (HERE / "_async.py").read_text()
    # Replace the module docstring's first paragraph.
    body = source[source.index("\n\n") + 1 :]
    for old, new in REPLACEMENTS:
        body = body.replace(old, new)
    body = re.sub(r"\bAsync([A-Z]\w*)", r"\1", body)
    body = re.sub(r"\b_Async([A-Z]\w*)", r"_\1", body)
    return _formatted(HEADER + body)


def _formatted(source: str) -> str:
    """As `ruff format` leaves it (a shorter line may now fit on one), so the file stays stable."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise RuntimeError("ruff is needed to format the generated client (pip install ruff)")
    done = subprocess.run(
        [ruff, "format", "--stdin-filename", str(HERE / "_sync.py"), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> None:
    (HERE / "_sync.py").write_text(generate())


if __name__ == "__main__":
    main()
