"""The real `conneskills` console script, run in its own process against a running platform."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.helpers.platform import ADMIN_KEY

CLI = str(Path(sys.executable).parent / "conneskills")


async def run_cli(
    api_server, *args: str, stdin: str | None = None, key: str = ADMIN_KEY, seconds: float = 180
) -> tuple[int, str, str]:
    """The console script in its own process (never blocking the loop the suite's worker runs in):
    its exit code, stdout and stderr. No profile file: HOME and XDG point at nothing."""
    env = dict(
        os.environ,
        CONNESKILLS_API_URL=api_server.url,
        CONNESKILLS_API_KEY=key,
        XDG_CONFIG_HOME="/nonexistent",
        COLUMNS="200",
    )
    process = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(
        process.communicate(stdin.encode() if stdin is not None else b""), seconds
    )
    return process.returncode, out.decode(), err.decode()
