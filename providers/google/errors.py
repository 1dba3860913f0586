"""Turns Google API errors into Temporal failures: caller mistakes stop the job, outages are retried.

Over REST the clients pick the exception class from the HTTP status alone (409 → Conflict, 403 →
Forbidden), so the google.rpc status in the body decides: ABORTED (an etag race) is worth a retry,
ALREADY_EXISTS is not.
"""

from __future__ import annotations

from google.api_core import exceptions as gexc
from temporalio.exceptions import ApplicationError

# A retry cannot fix these: the request itself is wrong or the resource is not what the job expects.
_FINAL_STATUSES = {
    "NOT_FOUND": "NotFound",
    "ALREADY_EXISTS": "AlreadyExists",
    "INVALID_ARGUMENT": "InvalidArgument",
    "FAILED_PRECONDITION": "FailedPrecondition",
    "PERMISSION_DENIED": "PermissionDenied",
    "UNAUTHENTICATED": "Unauthenticated",
    "OUT_OF_RANGE": "InvalidArgument",
}
_FINAL_HTTP = {
    400: "InvalidArgument",
    401: "Unauthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    409: "AlreadyExists",
}


def rpc_status(error: gexc.GoogleAPICallError) -> str | None:
    """The google.rpc status name of an error (`ALREADY_EXISTS`, `ABORTED`, …) when known."""
    if error.grpc_status_code is not None:
        return error.grpc_status_code.name
    response = getattr(error, "response", None)
    try:
        return response.json()["error"]["status"]
    except Exception:  # no body, not JSON, or not a google.rpc.Status: fall back to HTTP status
        return None


def to_application_error(error: gexc.GoogleAPICallError, what: str) -> ApplicationError:
    status = rpc_status(error)
    final = _FINAL_STATUSES.get(status) if status else _FINAL_HTTP.get(error.code)
    message = f"{what}: {error.message or status or error.code}"
    if final:
        return ApplicationError(message, type=final, non_retryable=True)
    # Everything else (503, 500, 429, ABORTED, timeouts) is transient: Temporal retries the activity.
    return ApplicationError(message, type=status or type(error).__name__)
