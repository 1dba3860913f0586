"""The provisioning workflows the worker registers."""

from workflows.provisioning.agents import DeployAgent, RetireAgent
from workflows.provisioning.customer_branches import (
    ProvisionCustomerJira,
    ProvisionCustomerLiteLLM,
    ProvisionCustomerZenML,
)
from workflows.provisioning.customers import OnboardCustomer
from workflows.provisioning.drift import ObserveDrift, ReconcileService
from workflows.provisioning.image_builds import SetupImageBuild
from workflows.provisioning.offboarding import OffboardCustomer
from workflows.provisioning.service_databases import CreateServiceDatabase
from workflows.provisioning.services import DeployService, UndeployService

WORKFLOWS = [
    DeployService,
    UndeployService,
    CreateServiceDatabase,
    SetupImageBuild,
    OnboardCustomer,
    OffboardCustomer,
    ProvisionCustomerJira,
    ProvisionCustomerLiteLLM,
    ProvisionCustomerZenML,
    DeployAgent,
    RetireAgent,
    ReconcileService,
    ObserveDrift,
]
