"""Request and response shapes of the hosting system (seed 001)."""
