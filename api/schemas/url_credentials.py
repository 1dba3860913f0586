"""Whether a URL carries a credential: a password in its userinfo, or a credential-named parameter.

Checked on the decoded URL: `?%70assword=` is `?password=` to the server that receives it, and a
name encoded twice is decoded twice, so encoding never hides a credential from the check.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

# Parameter names (lowercase, with `-`, `_` and `.` removed) that carry a credential.
CREDENTIAL_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "accesstoken",
        "apikey",
        "key",
        "auth",
        "sig",
        "signature",
        "clientsecret",
    }
)
# Any name ending in one of these is a credential too (`sslpassword`, `refresh_token`, `x-api-key`,
# `X-Amz-Signature`); `key` alone is not a suffix, so libpq's `sslkey` (a file path) stays allowed.
CREDENTIAL_SUFFIXES = ("password", "passwd", "secret", "token", "apikey", "signature")
_SEPARATORS = re.compile(r"[-_.\s]")
# Decoding stops once the text no longer changes; a few rounds cover any real nesting.
_MAX_DECODE_ROUNDS = 4


def _fully_decoded(text: str) -> str:
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def is_credential_name(name: str) -> bool:
    normalised = _SEPARATORS.sub("", _fully_decoded(name).lower())
    return normalised in CREDENTIAL_NAMES or normalised.endswith(CREDENTIAL_SUFFIXES)


def _parameters(text: str) -> list[str]:
    """Parameter names of a query or fragment, however it separates them (`&` or `;`)."""
    names = []
    for part in re.split(r"[&;]", text):
        name, _, _ = part.partition("=")
        names.append(name)
    names += [name for name, _ in parse_qsl(text, keep_blank_values=True)]
    return names


def carries_credential(url: str) -> bool:
    """True when `url` has `user:password@` (also percent-encoded) or a credential parameter in its
    query, fragment or path parameters. A URL that cannot be parsed is the caller's to refuse."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in _fully_decoded(userinfo):
        return True
    path_parameters = [segment.partition(";")[2] for segment in parts.path.split("/")]
    for text in (parts.query, parts.fragment, *path_parameters):
        if any(is_credential_name(name) for name in _parameters(text)):
            return True
    return False
