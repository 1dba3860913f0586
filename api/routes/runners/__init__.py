"""The runners system's HTTP surface (seed 004): its routers, collected by `api/app.py`."""

from api.routes.runners import runners

ROUTERS = [runners.router]
