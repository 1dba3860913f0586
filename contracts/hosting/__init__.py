"""The hosting system's names and typed data crossing the Temporal boundary (seed 001)."""
