"""Every workflow type's timeouts (see `contracts/timeouts.py`), collected from each system's names
the way `worker.py` collects their workflows: the API applies them when it starts a job, the reaper
compares open jobs with them, and a test checks every registered type has its figures."""

from __future__ import annotations

from contracts.assistant import names as assistant
from contracts.hosting import services as hosting_services
from contracts.hosting.vm_names import VM_TIMEOUTS
from contracts.job_cleanup import CLEANUP_TIMEOUTS, CLEANUP_WORKFLOW
from contracts.oversight import names as oversight
from contracts.provisioning import names as provisioning
from contracts.resource_lock import LOCK_TIMEOUTS, LOCK_WORKFLOW
from contracts.runners import names as runners
from contracts.timeouts import DEFAULT_TIMEOUTS, JobTimeouts

BY_WORKFLOW: dict[str, JobTimeouts] = {
    **provisioning.TIMEOUTS,
    **runners.TIMEOUTS,
    **oversight.TIMEOUTS,
    **VM_TIMEOUTS,
    **hosting_services.TIMEOUTS,
    **assistant.TIMEOUTS,
    LOCK_WORKFLOW: LOCK_TIMEOUTS,
    CLEANUP_WORKFLOW: CLEANUP_TIMEOUTS,
}


def timeouts_for(workflow_type: str) -> JobTimeouts:
    return BY_WORKFLOW.get(workflow_type, DEFAULT_TIMEOUTS)
