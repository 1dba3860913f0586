"""What the hosting system's routes do beyond translating HTTP (seed 001)."""
