"""The ConneSkills Platform's Python client and `conneskills` console script (docs/cli.md)."""

from conneskills.client import (
    AgentClient,
    AsyncAgentClient,
    AsyncClient,
    Client,
    ConneSkillsError,
    JobWaitTimeout,
)

__all__ = [
    "AgentClient",
    "AsyncAgentClient",
    "AsyncClient",
    "Client",
    "ConneSkillsError",
    "JobWaitTimeout",
]
