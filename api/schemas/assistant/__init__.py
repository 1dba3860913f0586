"""Request and response shapes of the ops assistant (seed 002)."""
