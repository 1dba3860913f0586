"""The API's routing with its routers' routes served as they are (`api.http.include_routes`, what
`create_app` does) against FastAPI's `include_router` (the baseline, built in the same run by
handing `create_app` an `include_router` call instead).

Two figures, in this process's CPU time (the app is called in process, through httpx's ASGI
transport, after its lifespan has started):

- an app's first requests: one unauthenticated GET into each of the API's routers (each answers
  401), on a new app each time; with `include_router` the first request into a router builds all
  of its routes again for that app;
- a warm app's requests: the same GETs again and again on one app, where a request is matched
  against the routes (and, with `include_router`, against each router's inclusion as well).

Each round measures both, baseline first, and the script prints each round's figures and the
median ratios (ours / baseline).

    python -m bench.api_routing --rounds 5 --apps 10 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI

import api.app as api_app
from api.http import include_routes
from core.settings import Settings

# A GET into each of the API's routers that needs a key; unauthenticated, each answers 401.
PATHS = (
    "/api/v1/jobs",
    "/api/v1/services",
    "/api/v1/customers",
    "/api/v1/secrets",
    "/api/v1/agents/prompts",
    "/api/v1/external-services",
    "/api/v1/runners",
    "/api/v1/audit",
    "/api/v1/alerts",
    "/api/v1/admin/accounts",
    "/protected",
    "/service-types",
    "/api/conversations",
    "/api/learned-apis",
    "/api/metrics",
    "/api/v1/api-keys",
)
Include = Callable[[FastAPI, APIRouter], None]


def _included_by_fastapi(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def _settings(data_dir: Path) -> Settings:
    # Nothing listens on port 9: the API's Temporal client is lazy and its Schedules are set up
    # in the background, so the lifespan runs without a server.
    return Settings(data_dir=data_dir, temporal_address="127.0.0.1:9", metrics_enabled=False)


@contextlib.asynccontextmanager
async def _started_app(include: Include, settings: Settings):
    api_app.include_routes = include
    try:
        app = api_app.create_app(settings)
    finally:
        api_app.include_routes = include_routes
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def _get_each(client: httpx.AsyncClient) -> None:
    for path in PATHS:
        response = await client.get(path)
        if response.status_code != 401:
            raise SystemExit(f"GET {path} answered {response.status_code}, not 401")


async def _first_requests(include: Include, apps: int, data_dir: Path) -> float:
    """CPU seconds of the first GETs of `apps` new apps, per app."""
    spent = 0.0
    for _ in range(apps):
        async with _started_app(include, _settings(data_dir)) as client:
            began = time.process_time()
            await _get_each(client)
            spent += time.process_time() - began
    return spent / apps


async def _warm_requests(include: Include, requests: int, data_dir: Path) -> float:
    """CPU microseconds per GET on one app whose routes have all served once."""
    async with _started_app(include, _settings(data_dir)) as client:
        await _get_each(client)
        rounds = max(1, requests // len(PATHS))
        began = time.process_time()
        for _ in range(rounds):
            await _get_each(client)
        return (time.process_time() - began) / (rounds * len(PATHS)) * 1e6


async def main(rounds: int, apps: int, requests: int) -> None:
    logging.disable(logging.CRITICAL)
    first: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        for number in range(1, rounds + 1):
            base_first = await _first_requests(_included_by_fastapi, apps, data_dir)
            ours_first = await _first_requests(include_routes, apps, data_dir)
            base_warm = await _warm_requests(_included_by_fastapi, requests, data_dir)
            ours_warm = await _warm_requests(include_routes, requests, data_dir)
            first.append(ours_first / base_first)
            warm.append(ours_warm / base_warm)
            print(
                f"round {number}: an app's first {len(PATHS)} requests "
                f"{base_first * 1000:.1f} -> {ours_first * 1000:.1f} ms of CPU; "
                f"a warm request {base_warm:.0f} -> {ours_warm:.0f} us"
            )
    print(f"median ratio, first requests (ours / include_router): {statistics.median(first):.2f}")
    print(f"median ratio, warm requests (ours / include_router): {statistics.median(warm):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.apps, args.requests))
