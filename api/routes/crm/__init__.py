"""The CRM system's HTTP surface (seed 003, Centro de Control): its routers, collected by `api/app.py`."""

from api.routes.crm import accounts, fields, ingest, leads

ROUTERS = [ingest.router, accounts.router, fields.router, leads.router]
