"""Wire-level emulators of the external APIs the platform calls, for `make run` and tests."""
