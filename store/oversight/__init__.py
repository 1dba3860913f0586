"""The platform's oversight tables: the audit trail of mutating API calls, and the reaper's alerts."""
