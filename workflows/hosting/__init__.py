"""The hosting system's workflows (seed 001)."""
