"""How the CLI answers: tables for people, JSON for scripts, errors on stderr with exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

# Exit codes (docs/cli.md). A job's outcome (`watch`, `--wait`) is 0..3; the CLI's own are above.
OK, FAILED, CANCELLED, NEEDS_ATTENTION = 0, 1, 2, 3
API_ERROR = 4  # the API refused the request (its envelope's message is printed)
UNREACHABLE = 5  # no answer: connection refused, timeout, or a --timeout reached
USAGE = 64  # bad flags, file or profile (EX_USAGE): nothing was sent
INTERRUPTED = 130
JOB_EXIT = {"completed": OK, "failed": FAILED, "cancelled": CANCELLED}

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(plain(value), indent=2, default=str) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str) if value else "-"
    return str(getattr(value, "value", value))


def table(rows: Iterable[Any], columns: Sequence[str], title: str | None = None) -> None:
    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    count = 0
    for row in rows:
        data = plain(row)
        grid.add_row(*(_cell(data.get(column)) for column in columns))
        count += 1
    if count:
        out.print(grid)
    else:
        out.print("[dim]nothing to show[/dim]")


def record(value: Any, fields: Sequence[str] | None = None) -> None:
    """One object as `field  value` lines (every field, or those named)."""
    data = plain(value)
    grid = Table(show_header=False, box=None, pad_edge=False)
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name in fields or list(data):
        if name in data:
            grid.add_row(name, _cell(data[name]))
    out.print(grid)


def show(value: Any, as_json: bool, fields: Sequence[str] | None = None) -> None:
    if as_json:
        print_json(value)
    else:
        record(value, fields)
