"""Tests of the external-service templates against real servers (seed 000 §2)."""
