"""The hosting system's tables (seed 001): users, their Docker services and their Proxmox VMs."""
