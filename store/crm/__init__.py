"""The CRM system's tables (seed 003, Centro de Control): accounts, fields, records, leads, deliveries."""
