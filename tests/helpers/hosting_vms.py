"""What the hosting VM tests share: the VMs of one name on the local cloud's Proxmox cluster."""

from __future__ import annotations

from providers.proxmox import ProxmoxVE

NODES = ("sv1", "sv2", "sv3", "sv4", "sv5")


def vms_named(pve: ProxmoxVE, name: str) -> list[tuple[str, int]]:
    """Every VM with this name on any node (templates aside), as (node, vmid)."""
    found = []
    for node in NODES:
        for vm in pve.api.nodes(node).qemu.get():
            if vm.get("name") == name and not vm.get("template"):
                found.append((node, int(vm["vmid"])))
    return found
