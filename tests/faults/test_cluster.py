"""Scenario 10: a three-node RabbitMQ cluster (tests/faults/cluster.py) loses a node.

(a) the node leading `notifier.events` (and `notifier.events.dead`), not the consumer's;
(b) the node the consumer is connected to. Each node is SIGKILLed mid-stream and started
again only after `DOWN_S` seconds, longer than the 30 s the recovery must stay under: a
consumer that waited for its own node to return could not pass. Nothing may be lost,
nothing sent twice under a new Message-ID, and malformed messages arriving meanwhile
must all be in the dead-letter queue. Recovery here is the broker's part: from the kill
to the last event stored (every event is published by then); the emails follow at the
sender's pace, which no broker node touches (the last one's moment is in the notes).

Not in `make test`: three more Erlang VMs take a minute to boot on a 2-core machine and
the scenarios four more; `make faults-cluster` runs them (marker `cluster`).
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from tests.faults import population
from tests.faults.cluster import Cluster, Node, cluster
from tests.faults.counting import Tally, read_sink, verdict
from tests.faults.processes import now
from tests.faults.world import World, world

pytestmark = [pytest.mark.faults, pytest.mark.cluster]

DOWN_S = 35
MALFORMED = 10


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("rabbitmq")) as started:
        yield started


async def killed_mid_stream(w: World, c: Cluster, victim: Node, publisher: Node) -> float:
    """Half the events, the victim killed once the pipeline moves, the other half and the
    malformed messages through `publisher` while it is away, then the victim started
    again. The moment of the kill."""
    bodies = population.events(2000)
    w.amqp = await aio_pika.connect_robust(publisher.url)
    await w.publish_events(bodies[:1000])
    await w.arrived(100)
    await asyncio.to_thread(c.kill, victim)
    killed_at = now()
    try:
        await w.publish_events(bodies[1000:], pause=0.5)
        await w.publish([("payment.disbursed", b"{not json")] * MALFORMED)
        await asyncio.sleep(max(0.0, killed_at + DOWN_S - now()))
    finally:  # the next scenario needs the whole cluster
        await asyncio.to_thread(c.start, victim)
        await asyncio.to_thread(c.await_startup, victim)
    return killed_at


def longest_pause(w: World, killed_at: float) -> str:
    """The longest wait between two deliveries after the kill: the failover's own time."""
    moments = sorted(e["t"] for e in read_sink(w.sink_log).accepted if e["t"] >= killed_at)
    gaps = [(b - a, a) for a, b in zip([killed_at, *moments], moments, strict=False)]
    gap, at = max(gaps, default=(0.0, killed_at))
    return f"longest pause in deliveries after the kill: {gap:.1f} s, from +{at - killed_at:.1f} s"


async def judged(
    w: World, c: Cluster, killed_at: float, record: list[Tally], **checks: bool
) -> None:
    found = await w.delivered(w.expected(), within=180)
    last_email = w.tally(w.expected(), killed_at).recovery_s
    [stored] = await w.sql("SELECT extract(epoch FROM max(processed_at)) FROM processed_events")
    found.recovery_s = round(float(stored[0]) - killed_at, 1)
    found.notes.append(f"last event stored +{found.recovery_s} s, last email +{last_email} s")
    found.dead_lettered = await w.dead_lettered()
    whole = await asyncio.to_thread(c.running_nodes, c.nodes[0]) == set(c.names())
    found.notes.append(f"node away {DOWN_S} s; the cluster whole again: {whole}")
    found.notes.append(longest_pause(w, killed_at))
    await w.amqp.close()
    verdict(
        record,
        found,
        missing_0=found.missing == 0,
        extra_0=found.extra == 0,
        same_message_id=found.resent_new_id == 0,
        dead_letters_all_there=found.dead_lettered == MALFORMED,
        recovery_under_30_s=(found.recovery_s or 0) < 30,
        cluster_whole=whole,
        **checks,
    )


async def test_the_queue_leader_killed_loses_nothing(
    nodes: Cluster, workdir: Path, record: list[Tally]
) -> None:
    a, b, c = nodes.nodes
    # The world declares through a: both queues are led from there; the consumer is on b.
    async with world(
        "10a RabbitMQ cluster: queue leader killed", workdir,
        amqp_url=f"{a.url},{b.url},{c.url}", own_broker=True,
    ) as w:  # fmt: skip
        leader = await asyncio.to_thread(nodes.leader, a, w.topology.queue)
        assert leader == a.name
        w.sink()
        w.fleet.service("consume", NOTIFIER_AMQP_URL=f"{b.url},{c.url},{a.url}")
        w.fleet.service("send")
        killed_at = await killed_mid_stream(w, nodes, a, publisher=c)
        moved = await asyncio.to_thread(nodes.leader, b, w.topology.queue)
        await judged(w, nodes, killed_at, record, leader_moved=moved != a.name)


async def test_the_consumers_own_node_killed_loses_nothing(
    nodes: Cluster, workdir: Path, record: list[Tally]
) -> None:
    a, b, c = nodes.nodes
    async with world(
        "10b RabbitMQ cluster: consumer's node killed", workdir,
        amqp_url=f"{a.url},{b.url},{c.url}", own_broker=True,
    ) as w:  # fmt: skip
        w.sink()
        w.fleet.service("consume", NOTIFIER_AMQP_URL=f"{b.url},{c.url},{a.url}")
        w.fleet.service("send")
        killed_at = await killed_mid_stream(w, nodes, b, publisher=c)
        await judged(w, nodes, killed_at, record)
