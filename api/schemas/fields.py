"""Constrained strings the request schemas share. Each rule is a pattern or a length in the type
itself, so the check the API makes and the one the OpenAPI document publishes are the same; the
validators next to a field keep only what a JSON schema cannot say (an allow-list of registries or
regions, sums across fields) and give friendlier messages for it."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from providers.google import cloud_run_rules as cloud_run

# A container image reference (the OCI grammar Cloud Run applies): `[registry/]repo[:tag][@digest]`.
ImageRef = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=cloud_run.MAX_IMAGE_LENGTH, pattern=cloud_run.IMAGE_REFERENCE
    ),
]

# An IAM service account email (`name@project.iam.gserviceaccount.com`).
ServiceAccountEmail = Annotated[
    str, StringConstraints(max_length=255, pattern=f"^{cloud_run.SERVICE_ACCOUNT_PATTERN.pattern}$")
]

# No whitespace or control characters after the scheme (PostgreSQL text refuses NUL; logs and
# headers dislike the rest).
_ADDRESS = r"[^\s\x00-\x1f\x7f]+"
# Any scheme: `postgresql://…`, `redis://…`, `https://…`.
ServiceUrl = Annotated[
    str, StringConstraints(max_length=1024, pattern=rf"^[a-zA-Z][a-zA-Z0-9+.\-]*://{_ADDRESS}$")
]
# A link a person opens: http(s) only.
HttpLink = Annotated[str, StringConstraints(max_length=1024, pattern=rf"^https?://{_ADDRESS}$")]

# A display name: surrounding blanks are dropped, so it needs one character that is not a blank.
DisplayName = Annotated[
    str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=r"\S")
]

# A caller-chosen key carried in a header (a delivery id): printable, as a header value must be.
HeaderKey = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")
]
