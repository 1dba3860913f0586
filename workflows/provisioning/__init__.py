"""The provisioning system's workflows (seed 000), collected by `worker.py`."""

from workflows.provisioning.agents import DeployAgent, RetireAgent
from workflows.provisioning.image_builds import SetupImageBuild
from workflows.provisioning.service_databases import CreateServiceDatabase
from workflows.provisioning.services import DeployService, UndeployService

WORKFLOWS = [
    DeployService,
    UndeployService,
    CreateServiceDatabase,
    SetupImageBuild,
    DeployAgent,
    RetireAgent,
]
