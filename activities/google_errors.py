"""Turns Google API errors into Temporal failures: caller mistakes stop the job, outages are retried."""

from __future__ import annotations

from google.api_core import exceptions as gexc
from temporalio.exceptions import ApplicationError

# A retry cannot fix these: the request itself is wrong or the resource is not what the job expects.
_FINAL = {
    gexc.NotFound: "NotFound",
    gexc.AlreadyExists: "AlreadyExists",
    gexc.InvalidArgument: "InvalidArgument",
    gexc.FailedPrecondition: "FailedPrecondition",
    gexc.PermissionDenied: "PermissionDenied",
    gexc.Unauthenticated: "Unauthenticated",
    gexc.Conflict: "Conflict",
    gexc.BadRequest: "InvalidArgument",
}

NON_RETRYABLE_TYPES = sorted(set(_FINAL.values()))


def to_application_error(error: gexc.GoogleAPICallError, what: str) -> ApplicationError:
    for exc_type, type_name in _FINAL.items():
        if isinstance(error, exc_type):
            return ApplicationError(
                f"{what}: {error.message or type_name}", type=type_name, non_retryable=True
            )
    # Anything else (503, 500, 429, timeouts) is transient: Temporal retries the activity.
    return ApplicationError(f"{what}: {error.message or error}", type=type(error).__name__)
