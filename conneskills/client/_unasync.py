"""Writes each synchronous module from its asynchronous source (`_sync.py` from `_async.py`,
`_agent_sync.py` from `_agent_async.py`): one source for both clients (httpcore's approach).

Run `python -m conneskills.client._unasync` after changing an async module;
tests/cli/test_client.py fails while a generated module is stale.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
# Each generated module: its source, and the first line of its docstring.
GENERATED = {
    "_sync.py": ("_async.py", "The synchronous client: `Client` and its resources."),
    "_agent_sync.py": ("_agent_async.py", "The ops assistant's synchronous SDK: `AgentClient`."),
}
REPLACEMENTS = [
    ("conneskills.client._async import", "conneskills.client._sync import"),
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
    ("aclosing", "closing"),
    ("aclose()", "close()"),
    ("def aclose(", "def close("),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
]


def generate(target: str = "_sync.py") -> str:
    source_name, title = GENERATED[target]
    header = (
        f'"""{title} Generated from `{source_name}` by\n'
        f"`python -m conneskills.client._unasync`: edit `{source_name}`, never this file.\n"
    )
    source = (HERE / source_name).read_text()
    # Replace the module docstring's first paragraph.
    body = source[source.index("\n\n") + 1 :]
    for old, new in REPLACEMENTS:
        body = body.replace(old, new)
    body = re.sub(r"\bAsync([A-Z]\w*)", r"\1", body)
    body = re.sub(r"\b_Async([A-Z]\w*)", r"_\1", body)
    return _formatted(header + body, target)


def _formatted(source: str, target: str) -> str:
    """As `ruff` leaves it (a shorter line may now fit on one), so the file stays stable."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise RuntimeError("ruff is needed to format the generated client (pip install ruff)")
    # Renamed imports may fall out of order: sorted first (ruff's `I` rules), then formatted.
    for command in (["check", "--select", "I", "--fix", "--quiet"], ["format"]):
        done = subprocess.run(
            [ruff, *command, "--stdin-filename", str(HERE / target), "-"],
            input=source,
            capture_output=True,
            text=True,
            check=True,
        )
        source = done.stdout
    return source


def main() -> None:
    for target in GENERATED:
        (HERE / target).write_text(generate(target))


if __name__ == "__main__":
    main()
