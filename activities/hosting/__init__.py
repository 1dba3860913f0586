"""The hosting system's activities (seed 001), collected by `worker.py`."""

from __future__ import annotations

from collections.abc import Callable

from activities.hosting.job_cleanup import HostingJobCleanup
from activities.hosting.services import ServiceActivities
from activities.hosting.vms import VmActivities
from core.settings import Settings
from store.db import Database


def activities(settings: Settings, db: Database) -> list[Callable]:
    return [
        *ServiceActivities(settings, db).all(),
        *VmActivities(settings, db).all(),
        HostingJobCleanup(settings, db).cleanup_after_terminate,
    ]
