"""Tests of the local cloud, through the official Google clients; shared helpers below."""

from __future__ import annotations

import uuid

from google.api_core import retry as retries
from google.api_core.future import polling
from google.cloud import run_v2

# Poll operations every 50-200 ms instead of the client's default 1 s back-off: keeps tests fast.
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.05, maximum=0.2, multiplier=1.5)
NO_RETRY: retries.Retry | None = None


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def service(image: str = "us-docker.pkg.dev/cloudrun/container/hello") -> run_v2.Service:
    return run_v2.Service(
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=image)])
    )
