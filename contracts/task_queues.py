"""Which task queue each workflow type runs on: one per system, `<prefix>-<system>`, and a `core`
queue for the shared job machinery (the lock on a subject, the cleanup after a force-cancel) that
every worker serves. The prefix is the `task_queue` setting, which before the split was the one
queue of everything (the legacy queue, see docs/operating.md). Collected from each system's names
the way `contracts/workflow_timeouts.py` collects the timeouts; workflows use it too (to route a
child job to its system), so nothing here does I/O."""

from __future__ import annotations

from contracts.assistant import names as assistant
from contracts.hosting import services as hosting_services
from contracts.hosting.vm_names import VmWorkflows
from contracts.job_cleanup import CLEANUP_WORKFLOW
from contracts.oversight import names as oversight
from contracts.provisioning import names as provisioning
from contracts.resource_lock import LOCK_WORKFLOW
from contracts.runners import names as runners

CORE = "core"
PROVISIONING = "provisioning"
RUNNERS = "runners"
OVERSIGHT = "oversight"
HOSTING = "hosting"
ASSISTANT = "assistant"
# The systems a worker may serve (`worker.py --systems`), in the order it starts them.
SYSTEMS: tuple[str, ...] = (PROVISIONING, RUNNERS, OVERSIGHT, HOSTING, ASSISTANT)


def _declared(workflows: type) -> set[str]:
    return {value for key, value in vars(workflows).items() if key.isupper()}


SYSTEM_OF_WORKFLOW: dict[str, str] = {
    **dict.fromkeys(_declared(provisioning.Workflows), PROVISIONING),
    **dict.fromkeys(_declared(runners.Workflows), RUNNERS),
    **dict.fromkeys(_declared(oversight.Workflows), OVERSIGHT),
    **dict.fromkeys(_declared(hosting_services.Workflows), HOSTING),
    **dict.fromkeys(_declared(VmWorkflows), HOSTING),
    **dict.fromkeys(_declared(assistant.Workflows), ASSISTANT),
    LOCK_WORKFLOW: CORE,
    CLEANUP_WORKFLOW: CORE,
}


def queue(prefix: str, system: str) -> str:
    """The task queue of a system (or of `core`)."""
    return f"{prefix}-{system}"


def queue_for_workflow(prefix: str, workflow_type: str) -> str:
    """Where a job of this type starts. A type no system declares goes to `core`: served by every
    worker, so it is at least picked up (and fails as unknown) rather than waiting forever."""
    return queue(prefix, SYSTEM_OF_WORKFLOW.get(workflow_type, CORE))


def platform_queues(prefix: str) -> list[str]:
    """Every queue of the platform: the core's, each system's, and the legacy one (jobs started
    before the split run there until they end)."""
    return [queue(prefix, CORE), *(queue(prefix, system) for system in SYSTEMS), prefix]


def on_platform_queues(prefix: str) -> str:
    """A visibility filter for the platform's jobs (a shared namespace may hold others')."""
    names = ", ".join(f"'{name}'" for name in platform_queues(prefix))
    return f"TaskQueue IN ({names})"


def child_queue(own_queue: str, own_type: str, child_type: str) -> str | None:
    """The task queue of a child job started by a job of `own_type` running on `own_queue`: None
    (the parent's own, as before the split) when both are of one system; otherwise the child's
    system's queue under the same prefix. A parent on the legacy queue has the prefix as its queue."""
    own_system = SYSTEM_OF_WORKFLOW.get(own_type, CORE)
    child_system = SYSTEM_OF_WORKFLOW.get(child_type, CORE)
    if own_system == child_system:
        return None
    prefix = own_queue.removesuffix(f"-{own_system}")
    return queue(prefix, child_system)


def parse_systems(value: str | None) -> list[str]:
    """`--systems provisioning,runners`: the systems named, in SYSTEMS order; all of them when
    empty. An unknown name is a ValueError that lists the known ones."""
    if value is None or not value.strip():
        return list(SYSTEMS)
    named = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in named if name not in SYSTEMS]
    if unknown or not named:
        raise ValueError(
            f"unknown system(s) {', '.join(map(repr, unknown)) or repr(value)}: "
            f"choose from {', '.join(SYSTEMS)}"
        )
    return [system for system in SYSTEMS if system in named]
