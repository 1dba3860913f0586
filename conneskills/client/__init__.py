"""A typed Python client for the platform's REST API: `Client` (sync) and `AsyncClient`; and the
ops assistant's SDK: `AgentClient` (sync) and `AsyncAgentClient`."""

from conneskills.client._agent_async import AsyncAgentClient
from conneskills.client._agent_sync import AgentClient
from conneskills.client._async import AsyncClient
from conneskills.client._sync import Client
from conneskills.client.errors import ConneSkillsError, JobWaitTimeout
from conneskills.client.models import FINAL, SETTLED, ChatEvent, JobUpdate, LogEvent
from conneskills.client.retry import RetryPolicy

__all__ = [
    "FINAL",
    "SETTLED",
    "AgentClient",
    "AsyncAgentClient",
    "AsyncClient",
    "ChatEvent",
    "Client",
    "ConneSkillsError",
    "JobUpdate",
    "JobWaitTimeout",
    "LogEvent",
    "RetryPolicy",
]
