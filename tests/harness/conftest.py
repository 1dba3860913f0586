"""The harness's platform: one per test process, with its own local cloud and fault-injecting worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness.platform import HarnessPlatform, harness_platform


@pytest.fixture(scope="session")
async def harness(
    tmp_path_factory: pytest.TempPathFactory, temporal_address: str
) -> AsyncIterator[HarnessPlatform]:
    async with harness_platform(tmp_path_factory.mktemp("harness"), temporal_address) as platform:
        yield platform
