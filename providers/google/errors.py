"""Turns Google API errors into Temporal failures: caller mistakes stop the job, outages are retried.

Over REST the clients pick the exception class from the HTTP status alone (409 → Conflict, 403 →
Forbidden), so the google.rpc status in the body decides: ABORTED (an etag race) is worth a retry,
ALREADY_EXISTS is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions
from temporalio.exceptions import ApplicationError

from contracts.jobs import without_endpoints

# What the REST clients raise when no HTTP answer came at all: refused, reset, DNS, timeouts.
TRANSPORT_ERRORS = (requests.exceptions.RequestException, auth_exceptions.TransportError)


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
    message = f"{what}: {without_endpoints(str(error.message or status or error.code))}"
    if final:
        return ApplicationError(message, type=final, non_retryable=True)
    # Everything else (503, 500, 429, ABORTED, timeouts) is transient: Temporal retries the activity.
    return ApplicationError(message, type=status or type(error).__name__)


def transport_to_application_error(error: BaseException, what: str) -> ApplicationError:
    """No answer at all is an outage until proven otherwise: retried (for the job's retry window),
    described without the endpoint or the library's text."""
    text = str(error).lower()
    if isinstance(error, requests.exceptions.Timeout) or "timed out" in text:
        reason, kind = "timed out", "Timeout"
    elif "refused" in text:
        reason, kind = "connection refused", "Unavailable"
    else:
        reason, kind = "connection failed", "Unavailable"
    return ApplicationError(f"{what}: the cloud API did not answer ({reason})", type=kind)


@contextmanager
def as_temporal_failures(what: str) -> Iterator[None]:
    """Every failure of a Google client call inside, answered or not, as a Temporal failure."""
    try:
        yield
    except gexc.GoogleAPICallError as error:
        raise to_application_error(error, what) from None
    except TRANSPORT_ERRORS as error:
        raise transport_to_application_error(error, what) from None
