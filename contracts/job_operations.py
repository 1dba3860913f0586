"""Every job operation the platform starts, collected from each system's names the way
`contracts/workflow_timeouts.py` collects the timeouts: `GET /jobs?operation=` accepts only these,
so a misspelt filter is refused rather than answered with an empty list."""

from __future__ import annotations

from contracts.assistant import names as assistant
from contracts.hosting.vm_names import VmOperations
from contracts.job_cleanup import CLEANUP_OPERATION
from contracts.oversight import names as oversight
from contracts.provisioning import names as provisioning
from contracts.runners import names as runners


def _declared(operations: type) -> set[str]:
    return {value for key, value in vars(operations).items() if key.isupper()}


JOB_OPERATIONS: frozenset[str] = frozenset(
    {
        *_declared(provisioning.Operations),
        *_declared(runners.Operations),
        *_declared(oversight.Operations),
        *_declared(VmOperations),
        *_declared(assistant.Operations),
        CLEANUP_OPERATION,
    }
)
