"""What a hosted Docker service can be made of (seed 001's `GET /service-types`): the API checks
a request's `service_types` and `primary_app_type` against it, and the service jobs build their
Compose file from it."""

from __future__ import annotations

from typing import Literal

# In the order `GET /service-types` lists them.
SERVICE_TYPES = (
    "Static",
    "PHP",
    "Node.js",
    "Python",
    "WordPress",
    "MySQL",
    "PostgreSQL",
    "Redis",
    "Filebrowser",
)
ServiceType = Literal[
    "Static",
    "PHP",
    "Node.js",
    "Python",
    "WordPress",
    "MySQL",
    "PostgreSQL",
    "Redis",
    "Filebrowser",
]
