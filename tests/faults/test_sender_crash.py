"""Scenario 2: the sender SIGKILLed while it delivers, twice, and restarted at once.

Rows it had claimed but not marked sent wait for their lease to end. The lease setting
is shortened here when the service has one; FAULTS_SENDER_DEFAULTS=1 runs with the
service's defaults instead (and waits up to the default lease), to measure those.
"""

import os
from pathlib import Path

import pytest

from notifier.settings import Settings
from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.processes import now
from tests.faults.world import world

pytestmark = pytest.mark.faults

DEFAULTS = os.environ.get("FAULTS_SENDER_DEFAULTS") == "1"
RECOVERY_TARGET_S = 30.0


def lease_env() -> dict[str, str]:
    if DEFAULTS or "send_lease_seconds" not in Settings.model_fields:
        return {}
    return {"NOTIFIER_SEND_LEASE_SECONDS": "5"}


async def test_sender_killed_while_delivering_recovers_with_the_same_message_ids(
    workdir: Path, record: list[Tally]
) -> None:
    async with world("2 sender SIGKILL x2", workdir, **lease_env()) as w:
        w.sink()
        w.fleet.service("consume")
        sender = w.fleet.service("send")
        await w.publish_events(population.events(2000))
        expected = w.expected()
        fault_at = now()
        for share in (0.3, 0.6):
            await w.arrived(int(share * len(expected)))
            w.fleet.kill(sender)  # mid-batch: the sink is receiving
            fault_at = now()
            sender = w.fleet.service("send")
        within = 330 if DEFAULTS else 60
        found = await w.delivered(expected, within=within)
        found.recovery_s = w.tally(expected, fault_at).recovery_s
        found.notes.append(f"lease env: {lease_env() or 'service defaults'}")
        recovered = found.recovery_s is not None and found.recovery_s < RECOVERY_TARGET_S
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            same_message_id=found.resent_new_id == 0,
            duplicates_only_in_flight=found.duplicated <= 2 * 100,
            recovered_within_30s=recovered,
        )
