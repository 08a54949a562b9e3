"""Scenario 1: the consumer SIGKILLed at random moments while events stream in."""

import asyncio
import random
from pathlib import Path

import pytest

from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.processes import now
from tests.faults.world import world

pytestmark = pytest.mark.faults


async def test_consumer_killed_three_times_loses_nothing_and_adds_nothing(
    workdir: Path, record: list[Tally]
) -> None:
    async with world("1 consumer SIGKILL x3", workdir) as w:
        w.sink()
        consumer = w.fleet.service("consume")
        w.fleet.service("send")
        stream = asyncio.create_task(w.publish_events(population.events(2000), pause=1.0))
        rng = random.Random()
        fault_at = now()
        for _ in range(3):
            await asyncio.sleep(rng.uniform(1.5, 3.5))  # it must be up and consuming
            w.fleet.kill(consumer)
            fault_at = now()
            consumer = w.fleet.service("consume")
        await stream
        found = await w.delivered(w.expected(), within=60)
        found.recovery_s = w.tally(w.expected(), fault_at).recovery_s
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            same_message_id=found.resent_new_id == 0,
        )
