"""The platform's service registry as activities: written after Cloud Run, so it mirrors what exists."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.provisioning.drift import SERVICE_KIND
from contracts.provisioning.names import RegistrySteps
from contracts.provisioning.services import CloudRunCall, ServiceRecordInput
from store.db import Database
from store.oversight import resource_states
from store.provisioning import customers
from store.provisioning import service_registry as services


class RegistryActivities:
    def __init__(self, db: Database) -> None:
        self.db = db

    @activity.defn(name=RegistrySteps.UPSERT_SERVICE)
    async def upsert_service(self, inp: ServiceRecordInput) -> None:
        """Refused (for good) when the service's customer is no longer active: the deploy then
        fails and undoes itself instead of leaving a service offboarding never saw."""
        try:
            async with self.db.transaction() as session:
                await services.upsert(
                    session,
                    name=inp.service_name,
                    region=inp.region,
                    url=inp.url,
                    image=inp.image,
                    customer_prefix=inp.customer_prefix,
                    labels=inp.labels,
                    deployed_at=inp.deployed_at,
                )
                if inp.applied_json:
                    await resource_states.record_applied(
                        session,
                        kind=SERVICE_KIND,
                        name=inp.service_name,
                        region=inp.region,
                        tenant=inp.customer_prefix,
                        applied=inp.applied_json,
                        job_id=activity.info().workflow_id,
                        at=inp.deployed_at,
                        access=inp.invokers,
                    )
        except services.CustomerNotActive as refused:
            raise ApplicationError(
                str(refused), type="FailedPrecondition", non_retryable=True
            ) from None

    @activity.defn(name=RegistrySteps.CUSTOMER_FOR_SERVICE)
    async def customer_for_service(self, call: CloudRunCall) -> str | None:
        """The known customer whose prefix starts the name (`acme-crm` → `acme`), longest first."""
        async with self.db.transaction() as session:
            return await customers.prefix_for_service_name(session, call.service_name)

    @activity.defn(name=RegistrySteps.REMOVE_SERVICE)
    async def remove_service(self, call: CloudRunCall) -> bool:
        async with self.db.transaction() as session:
            return await services.remove(session, call.service_name)
