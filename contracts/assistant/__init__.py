"""The ops assistant's names and typed data crossing the Temporal boundary (seed 002)."""
