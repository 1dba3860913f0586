"""The ConneSkills Platform's Python client and `conneskills` console script (docs/cli.md)."""

from conneskills.client import AsyncClient, Client, ConneSkillsError, JobWaitTimeout

__all__ = ["AsyncClient", "Client", "ConneSkillsError", "JobWaitTimeout"]
