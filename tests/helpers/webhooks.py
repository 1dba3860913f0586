"""Checking a webhook delivery as a receiver would: its HMAC-SHA256 signature over `t.body` with
the webhook's secret, and a timestamp close to now."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from tests.helpers.local_http import Seen


def verified(seen: Seen, secret: str) -> dict:
    """The delivery's event, once its signature checks out."""
    fields = dict(part.split("=", 1) for part in seen.headers["x-conneskills-signature"].split(","))
    signed = f"{fields['t']}.".encode() + seen.body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(time.time() - int(fields["t"])) < 300
    return json.loads(seen.body)
