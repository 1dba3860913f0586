"""The benchmark's second anchor: what a user would write instead of the platform. A bare FastAPI
endpoint that validates nothing (no auth, no schema, no limits) and calls `start_workflow` with the
same input, search attributes and data converter as the bare-client anchor. Configured by the same
`CONNESKILLS_*` environment as the API."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from contracts.provisioning.services import DeployServiceInput, ServiceSpec
from contracts.task_queues import queue_for_workflow
from core.settings import Settings
from temporal import search_attributes as sa
from temporal.client import data_converter

settings = Settings()
state: dict[str, Client] = {}


@asynccontextmanager
async def lifespan(_: FastAPI):
    state["client"] = await Client.connect(
        settings.temporal_address, data_converter=data_converter(settings)
    )
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/api/v1/services/deploy", status_code=202)
async def deploy(request: Request) -> dict[str, Any]:
    body = await request.json()
    job_id = f"deploy-{uuid.uuid4().hex[:12]}"
    await state["client"].start_workflow(
        "DeployService",
        DeployServiceInput(spec=ServiceSpec(**body), region="us-central1"),
        id=job_id,
        task_queue=queue_for_workflow(settings.task_queue, "DeployService"),
        static_summary=f"deploy {body['service_name']}",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.OPERATION, "deploy"),
                SearchAttributePair(sa.JOB_PHASE, "queued"),
                SearchAttributePair(sa.SUBJECT, f"service:{body['service_name']}"),
            ]
        ),
    )
    return {"job_id": job_id, "status": "queued"}
