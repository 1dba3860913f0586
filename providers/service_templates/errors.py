"""Errors raised by external-service templates, and the redaction that keeps secrets out of them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

REDACTED = "***"

# `scheme://user:password@host`: the password may itself contain '@' (unencoded), so match
# greedily up to the last '@' before the host part ends.
_URL_USERINFO = re.compile(r"(?P<prefix>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):[^\s/?#]*@")
# libpq keyword DSNs and query strings: `password=...`, `sslpassword=...`, `api_key=...`.
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:ssl)?(?:password|passwd|pwd|api[_-]?key|token|secret)\s*=\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;,]+)",
    re.IGNORECASE,
)


def redact_url(text: str) -> str:
    """Replace the password of every `scheme://user:password@` in `text`."""
    return _URL_USERINFO.sub(lambda m: f"{m.group('prefix')}:{REDACTED}@", text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Scrub URL passwords, `password=` pairs and every given secret value from `text`."""
    text = redact_url(str(text))
    text = _KEY_VALUE.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
    # Longest first, so a secret that contains another one is removed whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class ExternalServiceOperationError(Exception):
    """Base class: `message` is safe to show to an API client or to put in a job result."""

    # Temporal activities use this to mark the failure non-retryable: retrying a bad request
    # cannot help, retrying a refused connection can.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class UnknownOperationError(ExternalServiceOperationError):
    def __init__(self, operation: str, valid_operations: Sequence[str]) -> None:
        self.operation = operation
        self.valid_operations = list(valid_operations)
        valid = ", ".join(self.valid_operations) or "none"
        super().__init__(f"unknown operation {operation!r:.80}; valid operations: {valid}")

    def __reduce__(self):
        return (type(self), (self.operation, self.valid_operations))


class InvalidOperationParams(ExternalServiceOperationError):
    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.message, self.field))


class ExternalServiceError(ExternalServiceOperationError):
    """The service or its driver failed: connection refused, authentication, SQL error, 5xx."""

    retryable = True

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable

    def __reduce__(self):
        return (_rebuild_service_error, (type(self), self.message, self.retryable))


def _rebuild_service_error(cls, message, retryable):
    return cls(message, retryable=retryable)


class AuthenticationFailed(ExternalServiceError):
    """The service rejected the configured credentials (HTTP 401/403, bad password)."""

    retryable = False
