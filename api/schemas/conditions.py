"""Crossplane-style conditions and drift of a resource the platform applied, as every system's
representation of one shows them (the drift observer writes them: docs/operating.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.types import UtcDateTime


class ResourceCondition(BaseModel):
    """Crossplane-style: `Ready` (Cloud Run serves it), `Synced` (live matches what the platform
    last applied), `Drifted` (changed outside the platform), as the drift observer last saw it."""

    type: str = Field(description="`Ready`, `Synced` or `Drifted`.")
    status: str = Field(description='`"True"` or `"False"`.')
    reason: str
    message: str = ""
    last_transition_time: UtcDateTime | None = Field(
        default=None, description="When `status` last changed (not when it was last observed)."
    )


class DriftField(BaseModel):
    """One field whose live value differs from the applied one: `image`, `cpu`, …, `env.<NAME>`,
    `secrets.<NAME>` (`secret:version`, names only, never a value) or `labels.<key>`."""

    field: str
    applied: Any = None
    live: Any = None
