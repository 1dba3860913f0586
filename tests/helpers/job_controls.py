"""What the job-control tests share: a deploy that holds on failure, a Cloud Run fault on one of
its late steps, and reading jobs with another API key."""

from __future__ import annotations

import httpx

from tests.helpers.platform import wait_for_job
from tests.helpers.provisioning import IMAGE

HOLD = {"X-Job-On-Failure": "hold"}
# The force-cancel cool-off of the API that `quick_cooloff_api` (tests/conftest.py) serves.
COOLOFF = 6.0
IAM_REFUSAL = "Policy members must be of the form user:, serviceAccount: or allUsers"


async def start_deploy(api: httpx.AsyncClient, name: str, hold: bool = False) -> str:
    response = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": name, "image": IMAGE},
        headers=HOLD if hold else None,
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def refuse_access_policy(localcloud, name: str, times: int = 5) -> dict:
    """The access-policy step (after the service exists) fails for good: a Cloud Run 400. Returns
    the fault, for `localcloud.fired`."""
    return localcloud.inject_fault(
        fail_next=times,
        code=400,
        method="POST",
        path_contains=f"/services/{name}:setIamPolicy",
        message=IAM_REFUSAL,
    )


DELETE_REFUSAL = "Deletion refused by policy"


def refuse_deletion(localcloud, name: str) -> dict:
    """The service's delete (the compensation's undo) fails once for good: a Cloud Run 400.
    Returns the fault, for `localcloud.fired`."""
    return localcloud.inject_fault(
        fail_next=1,
        code=400,
        method="DELETE",
        path_contains=f"/services/{name}",
        message=DELETE_REFUSAL,
    )


async def held(api: httpx.AsyncClient, job_id: str) -> dict:
    return await wait_for_job(api, job_id, until={"needs_attention", "failed", "completed"})


async def create_key(api: httpx.AsyncClient, *scopes: str) -> str:
    response = await api.post("/api/v1/api-keys", json={"name": "jobs", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return response.json()["key"]
