"""Scenario 9: a pipelining relay that closes connections as real ones do: after each 421,
and after every few messages, so that the connections the sender keeps are found closed
between a batch's messages; every answer over several lines. Every email arrives once;
only the deferred ones wait for a later attempt."""

from pathlib import Path

import pytest

from tests.faults import population
from tests.faults.counting import Tally, read_sink, verdict
from tests.faults.world import world

pytestmark = pytest.mark.faults

DEFER_SHARE = 0.1
CLOSE_AFTER = 7  # messages per connection


async def test_connections_the_relay_closes_cost_no_email_and_no_repeat(
    workdir: Path, record: list[Tally]
) -> None:
    async with world("9 relay closes: 421, every 7 messages", workdir) as w:
        w.sink("--defer", str(DEFER_SHARE), "--multiline", "--close-after", str(CLOSE_AFTER))
        w.fleet.service("consume")
        w.fleet.service("send")
        await w.publish_events(population.events(2000))
        expected = w.expected()
        found = await w.delivered(expected, within=60)
        sink = read_sink(w.sink_log)
        closed = sum(1 for entry in sink.accepted if entry.get("closed"))
        by_421 = sum(1 for entry in sink.refused if entry["code"] == 421)
        deferred = {entry["mid"] for entry in sink.refused}
        rows = await w.sql("SELECT status, attempts FROM outbox")
        retried = sum(1 for r in rows if r["status"] == "sent" and r["attempts"] > 1)
        found.notes.append(
            f"connections closed after {CLOSE_AFTER} messages: {closed}, after a 421: {by_421}; "
            f"deferred {len(deferred)}, sent after a retry: {retried}"
        )
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            no_repeat=found.duplicated == 0,
            closed_many=closed > len(expected) // (2 * CLOSE_AFTER) and by_421 > 0,
            only_deferred_retried=retried == len(deferred),
            none_failed={r["status"] for r in rows} == {"sent"},
        )
