"""The platform's custom search attributes: what job listings filter on in Temporal visibility.

They name no system's domain: a job has an operation, a subject (`kind:name`, e.g. `service:hello`)
and labels (`key=value`, e.g. `customer=acme`), whatever system started it.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

OPERATION = SearchAttributeKey.for_keyword("ConneskillsOperation")
SUBJECT = SearchAttributeKey.for_keyword("ConneskillsSubject")
LABELS = SearchAttributeKey.for_keyword_list("ConneskillsLabels")
# queued until the workflow's first step starts, then running; the close status comes from Temporal.
JOB_PHASE = SearchAttributeKey.for_keyword("ConneskillsJobPhase")

# The job's created_at, set by whoever starts it: the start answer carries no time, and reading the
# workflow's own start time back cost a describe() per start (issue 9). Absent on a workflow started
# elsewhere (a schedule, the CLI): its created_at is then Temporal's start time.
CREATED_AT = SearchAttributeKey.for_datetime("ConneskillsCreatedAt")

ALL = (OPERATION, SUBJECT, LABELS, JOB_PHASE, CREATED_AT)
# Temporal's own (predefined, nothing to register): a workflow that sets it is left out of every
# listing whose query does not name it. The platform puts its lock workflows there.
NAMESPACE_DIVISION = SearchAttributeKey.for_keyword("TemporalNamespaceDivision")


def label_values(labels: dict[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(labels.items())]


def _type_name(key: SearchAttributeKey) -> str:
    return {LABELS.name: "KeywordList", CREATED_AT.name: "Datetime"}.get(key.name, "Keyword")


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_type_name(key)}"]
    return flags


# A dev server reads the search attributes from its store on every use unless told otherwise (so
# one added while it runs shows at once), and each job's start, upserts and close use them. The
# platform's are all registered as it starts (cli_flags), so it keeps them cached, as a real
# cluster does (60 s): about 8 % less of the dev server's CPU per job (bench/dev_server_cache.py).
CACHED_FLAGS = ("--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false")


def create_commands() -> list[str]:
    """What an operator runs once on a real cluster (the README prints these)."""
    return [
        f"temporal operator search-attribute create --name {key.name} --type {_type_name(key)}"
        for key in ALL
    ]
