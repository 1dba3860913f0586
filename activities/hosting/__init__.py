"""The hosting system's activities (seed 001)."""
