"""The ops assistant's HTTP surface (seed 002), under `/api/…`: collected by `api/app.py`, with
the seed's error codes (upper case) under its paths."""

from api.routes.assistant import (
    auth,
    chat,
    config,
    conversations,
    learned_apis,
    metrics,
    socket,
    webhooks,
)

ROUTERS = [
    auth.router,
    conversations.router,
    config.router,
    chat.router,
    metrics.router,
    socket.router,
    learned_apis.router,
    webhooks.router,
]

# The seed's "Códigos de Error": the envelope is the API's, its codes upper case.
ERROR_PATHS = (
    "/api/auth",
    "/api/chat",
    "/api/conversations",
    "/api/config",
    "/api/metrics",
    "/api/tools",
    "/api/learned-apis",
    "/api/webhooks",
)


def error_code(code: str) -> str:
    return "INVALID_REQUEST" if code == "validation_error" else code.upper()
