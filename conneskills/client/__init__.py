"""A typed Python client for the platform's REST API: `Client` (sync) and `AsyncClient`."""

from conneskills.client._async import AsyncClient
from conneskills.client._sync import Client
from conneskills.client.errors import ConneSkillsError, JobWaitTimeout
from conneskills.client.models import FINAL, SETTLED, JobUpdate, LogEvent
from conneskills.client.retry import RetryPolicy

__all__ = [
    "FINAL",
    "SETTLED",
    "AsyncClient",
    "Client",
    "ConneSkillsError",
    "JobUpdate",
    "JobWaitTimeout",
    "LogEvent",
    "RetryPolicy",
]
