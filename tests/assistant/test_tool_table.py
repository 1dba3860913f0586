"""The tool table against the API it calls (no server, fast): every platform tool names a route
the app serves with that method, fills each path parameter from its parameter model, and every
cloud tool has its call in the worker's activity."""

from __future__ import annotations

import re

from activities.assistant.turn import _CLOUD
from api.routes import assistant, crm, hosting, jobs, oversight, provisioning, runners
from contracts.assistant.tools import TOOLS

ROUTERS = (
    jobs.router,
    *provisioning.ROUTERS,
    *runners.ROUTERS,
    *oversight.ROUTERS,
    *crm.ROUTERS,
    *hosting.ROUTERS,
    *assistant.ROUTERS,
)


def _served() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        for method in getattr(route, "methods", ())
    }


def test_every_platform_tool_calls_a_served_route_with_its_path_parameters():
    served = _served()
    for tool in TOOLS.values():
        if tool.provider is not None:
            assert tool.path is None, tool.name
            continue
        assert (tool.method, tool.path) in served, f"{tool.name}: {tool.method} {tool.path}"
        for name in re.findall(r"{(\w+)}", tool.path):
            field = tool.params.model_fields.get(name)
            assert field is not None and field.is_required(), f"{tool.name}: {name}"


def test_every_cloud_tool_has_its_call_and_none_reads_a_secret_value():
    assert {t.name for t in TOOLS.values() if t.provider} == set(_CLOUD)
    assert not [t.name for t in TOOLS.values() if t.path and t.path.endswith("/value")]
