"""Scenario 2: the sender SIGKILLed while it delivers, twice, and restarted at once, with
the service's default settings: rows it had claimed but not marked sent are due again
when their lease (short, renewed while delivering) ends. Scenario 2b: the same with
SIGTERM, as `docker stop` sends: the stopped sender finishes its batches, so nothing
waits for a lease.
"""

from pathlib import Path

import pytest

from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.processes import now
from tests.faults.world import world

pytestmark = pytest.mark.faults

RECOVERY_TARGET_S = 30
# A stopped sender finishes its batches (or gives their rows back): no lease to wait out.
STOPPED_RECOVERY_TARGET_S = 10
# What a kill can leave sent but not recorded: the batches in flight (two on PostgreSQL,
# of the default 100 rows each), per kill.
IN_FLIGHT_PER_KILL = 2 * 100


async def test_sender_killed_while_delivering_recovers_with_the_same_message_ids(
    workdir: Path, record: list[Tally]
) -> None:
    await ended_twice("2 sender SIGKILL x2", workdir, record, terminate=False)


async def test_sender_stopped_while_delivering_gives_its_rows_back_at_once(
    workdir: Path, record: list[Tally]
) -> None:
    """Scenario 2b: SIGTERM twice mid-delivery, the sender restarted at once: the stopped
    one finishes the batches in hand and claims no more, so nothing waits for the 20 s
    lease that bounds scenario 2."""
    await ended_twice("2b sender SIGTERM x2", workdir, record, terminate=True)


async def ended_twice(name: str, workdir: Path, record: list[Tally], *, terminate: bool) -> None:
    """The sender SIGTERMed (`terminate`) or SIGKILLed at 30 % and 60 % of the emails,
    mid-batch (the sink is receiving), and restarted each time."""
    target_s = STOPPED_RECOVERY_TARGET_S if terminate else RECOVERY_TARGET_S
    async with world(name, workdir) as w:
        w.sink()
        w.fleet.service("consume")
        sender = w.fleet.service("send")
        await w.publish_events(population.events(2000))
        expected = w.expected()
        fault_at = now()
        shares = (0.3, 0.6)
        for share in shares:
            await w.arrived(int(share * len(expected)))
            (w.fleet.stop if terminate else w.fleet.kill)(sender)
            fault_at = now()
            sender = w.fleet.service("send")
        found = await w.delivered(expected, within=60)
        found.recovery_s = w.tally(expected, fault_at).recovery_s
        recovered = found.recovery_s is not None and found.recovery_s < target_s
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            same_message_id=found.resent_new_id == 0,
            duplicates_only_in_flight=found.duplicated <= len(shares) * IN_FLIGHT_PER_KILL,
            **{f"recovered_within_{target_s}s": recovered},
        )
