"""The CRM system's HTTP surface (seed 003, Centro de Control): its routers, collected by `api/app.py`."""

from api.routes.crm import accounts, fields, ingest, leads

# Apart: the app mounts the webhook before every other router (see api/app.py).
WEBHOOK_ROUTERS = [ingest.router]
ROUTERS = [accounts.router, fields.router, leads.router]
