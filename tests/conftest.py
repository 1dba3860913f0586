"""Shared test fixtures: real Temporal dev server, the local cloud, the API and a worker."""

pytest_plugins = ["tests.fixtures_localcloud"]
