"""Builds the local cloud's FastAPI app from the control plane and every module in `localcloud.apis`."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.requests import ClientDisconnect

from localcloud import apis, control, git_repos
from localcloud.errors import install_error_handlers
from localcloud.faults import FaultRegistry
from localcloud.request_log import RequestLog
from localcloud.request_match import request_target
from localcloud.state import LocalCloudState

log = logging.getLogger("localcloud")


def discover_apis() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(apis.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{apis.__name__}.{info.name}")
        if hasattr(module, "router"):
            modules.append(module)
    return modules


def _include_routes(app: FastAPI, router: APIRouter) -> None:
    # Not `include_router`: its per-app wrapper builds every route of the router again on the
    # first request that reaches it and is walked on every request; the emulators' routers are
    # included with nothing to add, so the routes their modules built serve as they are
    # (the API does the same: api/http.py's `include_routes`).
    app.router.routes.extend(router.routes)


def create_app(
    data_dir: Path | None = None,
    lro_delay: float = 1.0,
    build_seconds: float = 2.0,
    proxmox_task_seconds: float = 1.0,
) -> FastAPI:
    """The emulator app; without `data_dir` its state lives in memory only."""
    app = FastAPI(title="ConneSkills local cloud", docs_url="/_localcloud/docs", openapi_url=None)
    state = LocalCloudState(data_dir, lro_delay, build_seconds, proxmox_task_seconds)
    app.state.localcloud = state
    app.state.faults = FaultRegistry()
    app.state.requests = RequestLog()
    install_error_handlers(app)
    git_repos.seed_example(state)
    _include_routes(app, control.router)
    # An injected fault answers in the error shape of the API it hits, where that API has its own
    # (`FAULT_PATH_PREFIX` and `fault_response`: Proxmox reports errors by the reason phrase).
    fault_renderers = []
    for module in discover_apis():
        _include_routes(app, module.router)
        if hasattr(module, "fault_response"):
            fault_renderers.append((module.FAULT_PATH_PREFIX, module.fault_response))
        if hasattr(module, "settle"):
            state.add_settler(module.settle)
        log.info("serving %s", module.__name__)

    @app.middleware("http")
    async def faults_then_settle(request: Request, call_next) -> Response:
        target = request_target(request.url.path, request.url.query)
        app.state.requests.record(request.method, target)
        faults = app.state.faults
        body = None
        # Read only while a fault matches on bodies: git pushes stream large ones.
        if faults.wants_body():
            try:
                body = (await request.body()).decode("utf-8", "replace")
            except ClientDisconnect:
                # Out here the app's handler for it (localcloud.errors) is not reached.
                return Response(status_code=499)
        request.state.body_for_faults = body
        applied = faults.apply(request.method, target, body)
        if applied.latency_ms:
            await asyncio.sleep(applied.latency_ms / 1000)
        if applied.error is not None:
            for prefix, render in fault_renderers:
                if request.url.path.startswith(prefix):
                    return render(applied.error)
            return applied.error.response()
        state.settle()
        return await call_next(request)

    return app
