"""The runners system's HTTP surface (seed 004): its routers, collected by `api/app.py`."""

from api.routes.runners import runners
from contracts.runners.names import RunnerSteps

ROUTERS = [runners.router]

# What a force-cancel's cleanup job runs for this system (contracts/job_cleanup.py).
JOB_CLEANUPS = [RunnerSteps.CLEANUP_AFTER_TERMINATE]
