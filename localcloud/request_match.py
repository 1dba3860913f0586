"""The one rule by which a fault and the request counter pick requests: `method` (if given) equals
the request's, and `path_contains` (if given) is a substring of its target, the path with its
query (`/v2/projects/p/locations/r/services?serviceId=hello`: a create names its resource in the
query, so a test can pick its own job's requests by the names that job uses)."""

from __future__ import annotations


def request_target(path: str, query: str = "") -> str:
    return f"{path}?{query}" if query else path


def is_control_plane(target: str) -> bool:
    return target.startswith("/_localcloud")


def matches(method: str, target: str, want_method: str | None, path_contains: str | None) -> bool:
    if want_method and want_method.upper() != method.upper():
        return False
    return not path_contains or path_contains in target
