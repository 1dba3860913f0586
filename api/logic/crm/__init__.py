"""What the CRM routers need beyond HTTP: payload checks, the ingest transaction, the rate limit."""
