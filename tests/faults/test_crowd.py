"""Scenario 6: three consumers and two senders side by side on one database."""

from pathlib import Path

import pytest

from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.world import world

pytestmark = pytest.mark.faults


async def test_three_consumers_two_senders_deliver_each_email_exactly_once(
    workdir: Path, record: list[Tally]
) -> None:
    async with world("6 3 consumers + 2 senders", workdir) as w:
        w.sink()
        for role in ("consume", "consume", "consume", "send", "send"):
            w.fleet.service(role)
        bodies = population.events(2000)
        # Each event twice, as the e-service may deliver it: consumers race on the copies.
        await w.publish_events(bodies + bodies[:500], pause=0.5)
        found = await w.delivered(w.expected(), within=60)
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            duplicated_0=found.duplicated == 0,
        )
