"""The hosting system's VM workflows the worker registers."""

from workflows.hosting.vm_lifecycle import ControlVm, DeleteVm, UpdateVm
from workflows.hosting.vms import CreateVm

WORKFLOWS = [CreateVm, UpdateVm, ControlVm, DeleteVm]
