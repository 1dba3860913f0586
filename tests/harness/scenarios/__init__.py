"""One scenario per job type users start: how to prepare what the job needs, how to start it through
the REST API with names of its own, and which names are its own (the snapshot's tokens).

`kind` says what a successful run does to the world: a "create" job makes things (so a failed or
cancelled one must leave the world exactly as it found it), a "remove" job deletes things (a failed
or cancelled one may have removed some, it cannot undo a delete, but it must make nothing), a
"change" job changes things in place (a VM's cores, memory, disk or power state, a service's
containers' power state): a failed or cancelled one makes and removes nothing and puts back what it
changed, except the fields its scenario names in `kept` (a change with no undo: a disk Proxmox grew,
which it never shrinks), which it must report in its compensation report as `kept`.
Prerequisites are prepared through the API too, before the snapshot is taken.

A job type may have more than one scenario (a variant: the same workflow type started another way,
or on a world with more in it): the catalogue, the selection and the case ids key scenarios by
`Scenario.key`, `<workflow type>` or `<workflow type>+<variant>` (`OffboardCustomer+agents`).

One module per system (provisioning, runners, hosting, assistant), each with its `SCENARIOS`; this
package joins them, keyed by `Scenario.key`, and lists the workflow types that have none."""

from __future__ import annotations

from tests.harness.scenarios import assistant, hosting, provisioning, runners
from tests.harness.scenarios.base import Prepared, Scenario

__all__ = ["EXCLUDED", "NOT_YET", "SCENARIOS", "Prepared", "Scenario"]

SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for module in (provisioning, runners, hosting, assistant)
    for scenario in module.SCENARIOS
}

# Registered workflow types the harness does not run as scenarios, and why.
EXCLUDED: dict[str, str] = {
    # The lock jobs take turns through: started by the jobs themselves, never by a user; every
    # scenario runs through it.
    "ResourceLock": "internal: every job's turn-taking, exercised by every scenario",
    # Started by a force-cancel (terminate) only; the harness's faults are graceful.
    "CleanupAfterTerminate": "internal: runs only after a force-cancel",
    # Periodic sweeps started by Temporal Schedules; they create nothing to leak.
    "JobReaper": "internal: scheduled sweep that creates nothing outside",
    "ObserveDrift": "internal: scheduled read-only sweep that creates nothing outside",
    # Child jobs of onboarding: faulted through OnboardCustomer's steps, which include theirs.
    "ProvisionCustomerJira": "child job of OnboardCustomer",
    "ProvisionCustomerLiteLLM": "child job of OnboardCustomer",
    "ProvisionCustomerZenML": "child job of OnboardCustomer",
    # Started by the platform for each event a webhook receives; it creates nothing outside
    # (its attempts are rows of the platform's own table).
    "WebhookDelivery": "internal: an event's delivery to a webhook, creates nothing outside",
}
# Job types users start that have no scenario yet: the coverage test lists them rather than fail,
# so the gap is visible in one place. Remove an entry when its scenario lands.
NOT_YET: dict[str, str] = {}
