"""The hosting workflows the worker registers: Docker services and Proxmox VMs."""

from workflows.hosting.services import ControlDockerService, CreateDockerService
from workflows.hosting.vm_catalog import WORKFLOWS as VM_WORKFLOWS

WORKFLOWS = [CreateDockerService, ControlDockerService, *VM_WORKFLOWS]
