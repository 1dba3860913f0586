"""The provisioning system's HTTP surface (seed 000): its routers, collected by `api/app.py`."""

from api.routes.provisioning import (
    agents,
    customers,
    external_services,
    image_builds,
    secrets,
    service_databases,
    services,
)
from contracts.provisioning.names import AgentSteps, CleanupSteps, CustomerSteps, Operations

# image_builds first: its fixed path must win over services' `/{service_name}` routes.
ROUTERS = [
    image_builds.router,
    services.router,
    secrets.router,
    service_databases.router,
    external_services.router,
    customers.router,
    agents.router,
]

# What a force-cancel's cleanup job runs for this system (contracts/job_cleanup.py).
JOB_CLEANUPS = [
    CleanupSteps.AFTER_TERMINATE,
    CustomerSteps.CLEANUP_AFTER_TERMINATE,
    AgentSteps.CLEANUP_AFTER_TERMINATE,
]

# Operations a fresh retry (POST /jobs/{id}/retry {"fresh": true}) refuses, with why: a failed or
# cancelled onboarding deleted the customer record it was started for (its compensation), so
# running it again would provision for a customer that no longer exists. Refusing is honest; a
# re-created record would be a new customer under the caller's old request.
NO_FRESH_RETRY = {
    Operations.ONBOARD_CUSTOMER: "its compensation deleted the customer record it was onboarding; "
    "create the customer again with POST /api/v1/customers (a new onboarding job)",
}
