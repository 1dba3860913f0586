"""The options every command shares, and the client they build."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from conneskills.cli.config import ConfigError, resolve
from conneskills.client import Client


class UsageProblem(Exception):
    """Bad input found before anything was sent (exit 64)."""


@dataclass
class State:
    api_url: str | None = None
    profile: str | None = None
    timeout: float = 30.0
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        if self._client is None:
            try:
                config = resolve(self.api_url, self.profile)
            except ConfigError as error:
                raise UsageProblem(str(error)) from None
            self._client = Client(config.api_url, config.api_key, timeout=self.timeout)
        return self._client


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts), not a table.")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Follow the job to its end; exit as `jobs watch` does.")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0, help="With --wait: give up after this many seconds (exit 5)."),
]
HoldOpt = Annotated[
    bool,
    typer.Option("--hold", help="On a step's final failure, hold the job (needs_attention)."),
]
IdemOpt = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Repeat a request safely: the same key, the same job."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="The request body as a YAML or JSON file ('-' for stdin)."),
]


def job_options(ctx: typer.Context) -> dict[str, Any]:
    """The client's job options from the command's `--hold` and `--idempotency-key`."""
    return {
        "on_failure": "hold" if ctx.params.get("hold") else None,
        "idempotency_key": ctx.params.get("idempotency_key"),
    }


def load_body(path: Path | None) -> dict[str, Any]:
    """A request body from a YAML or JSON file; a clear error for anything else."""
    if path is None:
        return {}
    import sys

    import yaml

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"cannot read {path}: {error}") from None
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise UsageProblem(f"{path} is not valid YAML or JSON: {error}") from None
    if not isinstance(data, dict):
        raise UsageProblem(f"{path} must hold a mapping of fields (a YAML or JSON object)")
    return data


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`KEY=VALUE` options into a mapping."""
    result: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise UsageProblem(f"{option} takes KEY=VALUE, not {value!r}")
        result[key] = rest
    return result
