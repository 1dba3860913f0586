"""Contracts of the platform's oversight: the JobReaper schedule and its alerts."""
