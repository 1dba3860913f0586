"""Response models of the oversight endpoints: the audit trail and the alerts."""
