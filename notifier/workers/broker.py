"""The broker's side of CONTRACTS §1: the exchange and queues the service owns, the headers
of a dead letter, and a connection that waits for RabbitMQ. Used by the consumer, the
dead-letter commands, the sample publisher and the benchmarks."""

import asyncio
import logging
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection
from yarl import URL

log = logging.getLogger(__name__)

REASON_HEADER = "x-notifier-reason"
ROUTING_KEY_HEADER = "x-notifier-routing-key"
EVENT_ID_HEADER = "x-notifier-event-id"
TIME_HEADER = "x-notifier-dead-lettered-at"


@dataclass(frozen=True, slots=True)
class Topology:
    """Names of CONTRACTS §1; tests pass their own so they never touch the real queue."""

    exchange: str = "statlig-ersattning.events"
    queue: str = "notifier.events"
    dead_letter_queue: str = "notifier.events.dead"
    # A message the broker redelivers this often (a crash loop) is dead-lettered by it.
    delivery_limit: int = 20
    # What the service tells the e-service (CONTRACTS §1); None: not declared (tests).
    outcomes_exchange: str | None = None


@dataclass(frozen=True, slots=True)
class Declared:
    exchange: AbstractExchange
    queue: AbstractQueue
    dead: AbstractQueue


async def declare(channel: AbstractChannel, topology: Topology) -> Declared:
    exchange = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    # A classic queue for dead letters: quorum queues on RabbitMQ 4 drop a message after
    # 20 requeues by default, and `dead-letters list` requeues what it shows.
    dead = await channel.declare_queue(topology.dead_letter_queue, durable=True)
    queue = await channel.declare_queue(
        topology.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": topology.delivery_limit,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": topology.dead_letter_queue,
        },
    )
    await queue.bind(exchange, routing_key="#")
    if topology.outcomes_exchange:  # declared at start, so the e-service can bind to it
        await channel.declare_exchange(
            topology.outcomes_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
    return Declared(exchange, queue, dead)


class BrokerUnavailable(RuntimeError):
    """The readiness check's answer while RabbitMQ does not."""


def safe_url(url: str) -> str:
    return str(URL(url).with_password("***")) if URL(url).password else url


async def connect(url: str, *, max_delay: float = 30.0) -> AbstractRobustConnection:
    """A robust connection, waiting as long as it takes for the broker to answer.

    aio-pika reconnects a robust connection that was once open, but not the first time.
    """
    delay = 1.0
    while True:
        try:
            return await aio_pika.connect_robust(url, timeout=10)
        except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
            log.warning(
                "RabbitMQ does not answer at %s (%s); events wait in the broker, consuming "
                "starts by itself once it answers; next try in %.0f s",
                safe_url(url),
                exc or type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
