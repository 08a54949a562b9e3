"""Scenario 8: a relay that defers a share of messages (421, closing the connection, or
451) and refuses some recipients (550): deferred ones arrive later, refused ones fail
once, never retried. Run against a relay that pipelines, as Postfix does, and one that
does not: the sender writes a message's commands differently for each."""

from pathlib import Path

import pytest

from tests.faults import population
from tests.faults.counting import Tally, read_sink, verdict
from tests.faults.world import world

pytestmark = pytest.mark.faults

REFUSED = ("summary-kommun-1480", "partial-region-01", "full-kommun-0580")
DEFER_SHARE = 0.2


@pytest.mark.parametrize("manner", ["pipelined", "one by one"])
async def test_deferred_messages_arrive_later_refused_recipients_fail_once(
    workdir: Path, record: list[Tally], manner: str
) -> None:
    async with world(f"8 relay 421/451 + 550, {manner}", workdir, refused=REFUSED) as w:
        one_by_one = ("--no-pipelining",) if manner == "one by one" else ()
        w.sink("--defer", str(DEFER_SHARE), "--refuse", "refused-", *one_by_one)
        w.fleet.service("consume")
        w.fleet.service("send")
        await w.publish_events(population.events(2000))
        expected = w.expected()
        refused = {pair for pair in expected if pair[1] in REFUSED}
        # A bound, not a target: one command per round trip takes a busy machine a while.
        found = await w.delivered(expected - refused, within=180)
        sink = read_sink(w.sink_log)
        deferred = {entry["mid"] for entry in sink.refused if entry["code"] in (421, 451)}
        refusals = [entry for entry in sink.refused if entry["code"] == 550]
        rows = await w.sql("SELECT user_id, status, attempts FROM outbox")
        failed = {(r["user_id"], r["attempts"]) for r in rows if r["status"] == "failed"}
        failed_rows = sum(1 for r in rows if r["status"] == "failed")
        retried_sent = sum(1 for r in rows if r["status"] == "sent" and r["attempts"] > 1)
        found.notes.append(
            f"deferred {len(deferred)} (then sent after a retry: {retried_sent}); "
            f"refused {len(refused)}: 550 answers {len(refusals)}, failed rows {failed_rows}"
        )
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            deferred_some=len(deferred) > 0.1 * len(expected),
            deferred_all_delivered_later=retried_sent == len(deferred),
            refused_failed_once={u for u, _ in failed} <= set(REFUSED)
            and {a for _, a in failed} == {1}
            and failed_rows == len(refused),
            refused_never_retried=len(refusals) == len(refused),
        )
