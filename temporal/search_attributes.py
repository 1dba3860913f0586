"""The platform's custom search attributes: what job listings filter on in Temporal visibility."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

OPERATION = SearchAttributeKey.for_keyword("ConneskillsOperation")
SERVICE_NAME = SearchAttributeKey.for_keyword("ConneskillsServiceName")
CUSTOMER_PREFIX = SearchAttributeKey.for_keyword("ConneskillsCustomerPrefix")
# queued until the workflow's first step starts, then running; the close status comes from Temporal.
JOB_PHASE = SearchAttributeKey.for_keyword("ConneskillsJobPhase")

ALL = (OPERATION, SERVICE_NAME, CUSTOMER_PREFIX, JOB_PHASE)


def cli_flags() -> list[str]:
    """`--search-attribute Name=Keyword` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags
