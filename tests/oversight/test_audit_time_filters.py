"""The audit trail's `from`/`to` take what the OpenAPI document publishes for them, an RFC 3339
date-time, and refuse anything else with a 400 naming the parameter (never read as a number of
seconds since 1970)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", ["0.5", "1700000000", "2025-01-31", "2025-01-31T12:00:00", "x"])
@pytest.mark.parametrize("name", ["from", "to"])
async def test_a_time_filter_that_is_not_rfc_3339_is_refused(api, name, value):
    answer = await api.get("/api/v1/audit", params={name: value})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == [
        {"field": f"query.{name}", "message": error["details"]["fields"][0]["message"]}
    ]
    assert "RFC 3339" in error["details"]["fields"][0]["message"]


@pytest.mark.parametrize("value", ["2025-01-31T12:00:00Z", "2025-01-31T14:00:00.5+02:00"])
async def test_an_rfc_3339_time_with_an_offset_is_accepted(api, value):
    answer = await api.get("/api/v1/audit", params={"from": value, "to": value})
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []  # from == to: an empty window
