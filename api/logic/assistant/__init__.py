"""What the ops assistant's routes do beyond translating HTTP (seed 002)."""
