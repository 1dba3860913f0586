"""`make harness-steps`: runs every scenario once successfully and once failing after its last step,
and writes tests/harness/steps.json from their histories and snapshots. Argument: scenario keys to
record (`DeployService`, `OffboardCustomer+agents`; default: all), keeping the other entries."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.harness import catalogue
from tests.harness.cases import run_case
from tests.harness.platform import harness_platform
from tests.harness.scenarios import SCENARIOS
from tests.helpers.platform import start_dev_server


async def record(platform, scenario) -> dict:
    success = await run_case(platform, scenario, None, None)
    assert success.status == "completed", f"{scenario.key}: {success.status}"
    failed = await run_case(platform, scenario, success.steps[-1], "fail_after")
    forward = {step.activity for step in success.steps}
    undos = sorted({step.activity for step in failed.steps} - forward)
    # What each child job type contributes: the footprint less a run whose child fails at once.
    branches = {}
    for step in success.steps:
        if step.workflow != scenario.workflow and step.workflow not in branches:
            without = await run_case(platform, scenario, step, "fail_before")
            branches[step.workflow] = sorted(
                (
                    Counter(success.changes["left behind"])
                    - Counter(without.changes["left behind"])
                ).elements()
            )
    return {
        "kind": scenario.kind,
        "workflow": scenario.workflow,
        "branches": branches,
        "steps": [step.label for step in success.steps],
        "undos": undos,
        "footprint": success.changes,
    }


async def main(only: list[str]) -> None:
    env = await start_dev_server()
    entries = catalogue.load()
    try:
        address = env.client.service_client.config.target_host
        with tempfile.TemporaryDirectory(prefix="harness-steps-") as root:
            async with harness_platform(Path(root), address) as platform:
                for name, scenario in SCENARIOS.items():
                    if only and name not in only:
                        continue
                    entries[name] = await record(platform, scenario)
                    print(f"{name}: {len(entries[name]['steps'])} steps", flush=True)
                    catalogue.save(entries)  # a long recording keeps what it has
    finally:
        await env.shutdown()
    catalogue.save(entries)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
