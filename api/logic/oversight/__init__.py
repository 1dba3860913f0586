"""What the oversight endpoints and schedule do beyond translating HTTP."""
