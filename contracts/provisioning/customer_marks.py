"""A customer's ownership marks, as each outside system keeps them. An offboarding deletes only what
carries its customer's mark; what the record names without it is unlinked and reported, so a record
pointed (by PUT, or by a name that happens to match) at another tenant's resource never deletes it.

- secrets: the `customer` label;
- LiteLLM users and keys: `customer` in their metadata;
- Cloud Run services made for the customer: the `conneskills-customer` label;
- the Jira project: its URL, the job that made it with `?customer=<prefix>` (projects made before
  that mark named the customer carry the URL of the customer's onboarding Jira branch alone);
- the ZenML runtime service account: the platform's job mark in its description and the
  customer's display name (IAM keeps no labels on accounts).

Plain data in, so the activities of every outside system share one reading of the marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from contracts.provisioning.customers import CUSTOMER_SECRET_LABEL, CUSTOMER_SERVICE_LABEL

JOB_PATH = "/api/v1/jobs/"
# What a service account's description starts with when a platform job made it.
ACCOUNT_JOB_MARK = "conneskills job "


def job_mark(public_api_url: str, job_id: str, prefix: str | None = None) -> str:
    """The URL a Jira project gets: the job that made it and, since it names them, the customer."""
    url = f"{public_api_url.rstrip('/')}{JOB_PATH}{job_id}"
    return f"{url}?customer={prefix}" if prefix else url


def jira_url_made_by(url: str | None, public_api_url: str, job_id: str, prefix: str) -> bool:
    return url in (job_mark(public_api_url, job_id, prefix), job_mark(public_api_url, job_id))


def jira_url_is_customers(
    url: str | None, public_api_url: str, prefix: str, onboarding_job: str | None
) -> bool:
    if not url:
        return False
    if onboarding_job and url == job_mark(public_api_url, f"{onboarding_job}-jira"):
        return True
    parts, base = urlsplit(url), urlsplit(public_api_url.rstrip("/"))
    return (
        (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
        and JOB_PATH in parts.path
        and parse_qs(parts.query).get("customer") == [prefix]
    )


def metadata_of(found: Any) -> dict[str, Any]:
    """A LiteLLM user's (a dict) or key's (an object with `metadata`) metadata."""
    metadata = (
        found.get("metadata") if isinstance(found, dict) else getattr(found, "metadata", None)
    )
    return metadata or {}


def metadata_is_customers(metadata: Mapping[str, Any] | None, prefix: str) -> bool:
    """A LiteLLM user's or key's metadata."""
    return (metadata or {}).get(CUSTOMER_SECRET_LABEL) == prefix


def secret_labels_are_customers(labels: Mapping[str, str] | None, prefix: str) -> bool:
    return (labels or {}).get(CUSTOMER_SECRET_LABEL) == prefix


def service_labels_are_customers(labels: Mapping[str, str] | None, prefix: str) -> bool:
    return (labels or {}).get(CUSTOMER_SERVICE_LABEL) == prefix


def runtime_account_display_name(prefix: str) -> str:
    return f"ZenML server of {prefix}"


def account_is_customers(display_name: str, description: str, prefix: str) -> bool:
    return display_name == runtime_account_display_name(prefix) and description.startswith(
        ACCOUNT_JOB_MARK
    )
