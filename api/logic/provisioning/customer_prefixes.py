"""Which prefixes a new customer may take: one whose derived names could be mistaken for another
customer's is refused (409) before anything is made.

Every name a customer owns is derived from its prefix (`CustomerNames`, `{prefix}-{agent}`), so two
prefixes must not derive the same name:
- `tra-ab` and `tra-ab-cd`: `tra-ab`'s agent `cd-zenml` is the service `tra-ab-cd-zenml`, which is
  also `tra-ab-cd`'s ZenML server; and a service `tra-ab-cd-x` would be read as either one's. So a
  prefix that is another's plus `-…` (or the reverse) is refused.
- `tra-ab-cd` and `traab-cd` both give the Jira project key `TRAABCD` (letters and digits, upper
  case, at most 10): a prefix whose key another customer has (derived or recorded) is refused.
"""

from __future__ import annotations

from api.errors import ApiError
from contracts.provisioning.customers import CustomerNames
from store.provisioning.models import Customer


def refuse_ambiguous(prefix: str, others: list[Customer]) -> None:
    key = CustomerNames(prefix).jira_project_key
    for other in others:
        if other.prefix == prefix:
            continue
        if prefix.startswith(f"{other.prefix}-") or other.prefix.startswith(f"{prefix}-"):
            raise _clash(
                prefix,
                other.prefix,
                "one prefix is the other's plus '-…', so their service names can collide",
            )
        if key in (CustomerNames(other.prefix).jira_project_key, other.jira_project_key):
            raise _clash(prefix, other.prefix, f"both would own the Jira project key {key}")


def _clash(prefix: str, other: str, why: str) -> ApiError:
    return ApiError(
        409,
        f"customer prefix '{prefix}' is ambiguous with customer '{other}': {why}",
        details={"field": "prefix", "conflicts_with": other},
    )
