"""Scenario 7: a flood of malformed messages mixed with valid events."""

import asyncio
import json
import random
from pathlib import Path

import pytest

from notifier.workers.broker import REASON_HEADER
from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.processes import rss_kib
from tests.faults.world import World, wait_for, world

pytestmark = pytest.mark.faults

POISON = 10_000
# A Python process's RSS wobbles by a few MiB with the allocator; a leak of one object
# per message would show as tens of MiB over 6,000 messages.
RSS_SLACK_KIB = 30 * 1024


async def test_poison_flood_dead_letters_each_with_reason_and_delivers_every_valid_one(
    workdir: Path, record: list[Tally]
) -> None:
    async with world(f"7 poison flood {POISON}", workdir) as w:
        w.sink()
        consumer = w.fleet.service("consume")
        w.fleet.service("send")
        valid = population.events(2000)
        poison = population.malformed(POISON)
        # A warm-up first, so imports and caches are in the baseline.
        await w.publish_events(valid[:100])
        await w.publish([("x.poison", body) for body in poison[:500]])
        await w.arrived(100)
        assert await wait_for(lambda: _dead(w, 500), 60)
        baseline = rss_kib(consumer.pid)
        mixed = [(e["event_type"], json.dumps(e).encode()) for e in valid[100:]]
        mixed += [("x.poison", body) for body in poison[500:]]
        random.Random(7).shuffle(mixed)
        w.published += valid[100:]
        done = asyncio.Event()
        sampler = asyncio.create_task(_peak_rss(consumer.pid, done))
        await w.publish(mixed, chunk=500)
        found = await w.delivered(w.expected(), within=90)
        assert await wait_for(lambda: _dead(w, POISON), 30)
        done.set()
        peak = max(await sampler, baseline)
        found.dead_lettered = await w.dead_lettered()
        reasons = await _reasons(w, found.dead_lettered)
        found.notes.append(
            f"consumer RSS {baseline // 1024} MiB after warm-up, "
            f"peak {peak // 1024} MiB, end {rss_kib(consumer.pid) // 1024} MiB"
        )
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            all_dead_lettered=found.dead_lettered == POISON,
            each_with_reason=reasons == POISON,
            memory_flat=peak - baseline < RSS_SLACK_KIB,
        )


async def _dead(w: World, count: int) -> bool:
    return await w.dead_lettered() >= count


async def _peak_rss(pid: int, done: asyncio.Event) -> int:
    peak = 0
    while not done.is_set():
        peak = max(peak, rss_kib(pid))
        await asyncio.sleep(0.2)
    return peak


async def _reasons(w: World, count: int) -> int:
    """How many dead letters carry a non-empty reason header (reading them all)."""
    channel = await w.amqp.channel()
    await channel.set_qos(prefetch_count=1000)
    queue = await channel.get_queue(w.topology.dead_letter_queue)
    found = 0
    async with queue.iterator(no_ack=True) as letters:
        seen = 0
        async for letter in letters:
            found += bool((letter.headers or {}).get(REASON_HEADER))
            seen += 1
            if seen == count:
                break
    await channel.close()
    return found
