"""The hosting system's HTTP surface (seed 001), at the API's root as the seed has it: collected by
`api/app.py`."""

from api.routes.hosting import info, logs, services, users, vms
from contracts.hosting.vm_names import HostingCleanupSteps

ROUTERS = [info.router, users.router, services.router, vms.router, logs.router]

# What a force-cancel's cleanup job runs for this system (contracts/job_cleanup.py): a terminated
# CreateVM's VM and a terminated CreateDockerService's containers, network, volumes, workspace and
# row, each found by the job's own mark only.
JOB_CLEANUPS = [HostingCleanupSteps.CLEANUP_AFTER_TERMINATE]
