"""The hosting system's HTTP surface (seed 001), at the API's root as the seed has it: collected by
`api/app.py`."""

from api.routes.hosting import info, logs, services, users, vms

ROUTERS = [info.router, users.router, services.router, vms.router, logs.router]
