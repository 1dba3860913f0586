"""The provisioning system's HTTP surface (seed 000): its routers, collected by `api/app.py`."""

from api.routes.provisioning import external_services, secrets, service_databases, services

ROUTERS = [services.router, secrets.router, service_databases.router, external_services.router]
