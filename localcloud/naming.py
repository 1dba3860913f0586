"""Identifiers and timestamps shaped the way Google's APIs shape them (project numbers, RFC 3339, etags)."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import time
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def project_number(project: str) -> str:
    """A stable 12-digit project number for a project id; a number passes through."""
    if project.isdigit():
        return project
    digest = int(hashlib.sha256(project.encode()).hexdigest()[:15], 16)
    return str(100_000_000_000 + digest % 900_000_000_000)


def short_hash(*parts: str, length: int = 10) -> str:
    """Lowercase letters derived from parts, like the hash in `NAME-<hash>-uc.a.run.app`."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(string.ascii_lowercase[b % 26] for b in digest[:length])


def random_letters(length: int = 3) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(length))


def now() -> float:
    # Wall clock, not monotonic: timestamps are persisted and compared across restarts.
    return time.time()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse the timestamp spellings clients send (Z, +00:00, +0000, up to 9 fraction digits)."""
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    day, clock, fraction, zone = match.groups()
    clock = clock or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    micros = (fraction or "0")[:6].ljust(6, "0")
    offset = "+0000" if zone in (None, "Z", "z") else zone.replace(":", "")
    return datetime.strptime(f"{day}T{clock}.{micros}{offset}", "%Y-%m-%dT%H:%M:%S.%f%z")


def etag(*parts: object) -> str:
    # Real etags are opaque quoted strings; a digest of the resource state changes whenever it does.
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]
    return f'"{digest}"'


def split_verb(segment: str) -> tuple[str, str | None]:
    """Split a path segment like `NAME:setIamPolicy` into the name and its custom method."""
    if ":" in segment:
        base, verb = segment.split(":", 1)
        return base, verb
    return segment, None


def camel(snake: str) -> str:
    """`update_mask` -> `updateMask`: proto JSON names, which APIs accept besides snake_case."""
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
