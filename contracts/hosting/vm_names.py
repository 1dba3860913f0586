"""Names of the hosting system's VM jobs (seed 001) that cross the Temporal boundary: operations,
workflow and activity types. Histories hold these values: never change one without a patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class VmOperations:
    CREATE_VM = "create_vm"
    UPDATE_VM = "update_vm"
    CONTROL_VM = "control_vm"
    DELETE_VM = "delete_vm"


class VmWorkflows:
    CREATE_VM = "CreateVM"
    UPDATE_VM = "UpdateVM"
    CONTROL_VM = "ControlVM"
    DELETE_VM = "DeleteVM"


# A create clones a template on up to five nodes in turn (minutes each on a real cluster); the
# others are a few Proxmox tasks.
VM_TIMEOUTS = {
    VmWorkflows.CREATE_VM: JobTimeouts(expected=timedelta(hours=1)),
    VmWorkflows.UPDATE_VM: JobTimeouts(expected=timedelta(minutes=20)),
    VmWorkflows.CONTROL_VM: JobTimeouts(expected=timedelta(minutes=20)),
    VmWorkflows.DELETE_VM: JobTimeouts(expected=timedelta(minutes=20)),
}


class VmSteps:
    PLAN_NODES = "hosting.vms.plan_nodes"
    CLONE = "hosting.vms.clone"
    CONFIGURE = "hosting.vms.configure"
    GROW_DISK = "hosting.vms.grow_disk"
    POWER = "hosting.vms.power"
    HA_ADD = "hosting.vms.ha_add"
    HA_REMOVE = "hosting.vms.ha_remove"
    REMOVE = "hosting.vms.remove"
    LOCATE = "hosting.vms.locate"
    RECORD = "hosting.vms.record"


class HostingCleanupSteps:
    # After a force-cancel (contracts/job_cleanup.py): what the terminated job made, by its mark.
    CLEANUP_AFTER_TERMINATE = "hosting.cleanup_after_terminate"
