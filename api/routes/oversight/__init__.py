"""The oversight HTTP surface (issue 10): the audit trail and the reaper's alerts, collected by
`api/app.py`."""

from api.routes.oversight import alerts, audit

ROUTERS = [audit.router, alerts.router]
