"""The broker's side of docs/contracts.md §1: the exchange and queues the service owns, the headers
of a dead letter, and the one connection factory of every process that talks to RabbitMQ
(the consumer, the dead-letter commands, the outcomes publisher, the sample publisher,
readiness and the benchmarks).

NOTIFIER_AMQP_URL names one node or several nodes of one cluster, comma-separated. The
factory tries them in turn, starting after the node it last connected to, so a process
whose node is lost is on another within seconds; it comes back to that node when the one
it moved to is lost in its turn. aio-pika's robust connection reconnects to one URL only:
a process that must move on watches its connection close (the consumer does) and asks the
factory again.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import ChannelPreconditionFailed
from pamqp.common import FieldTable
from yarl import URL

log = logging.getLogger(__name__)

REASON_HEADER = "x-notifier-reason"
ROUTING_KEY_HEADER = "x-notifier-routing-key"
EVENT_ID_HEADER = "x-notifier-event-id"
TIME_HEADER = "x-notifier-dead-lettered-at"


@dataclass(frozen=True, slots=True)
class Topology:
    """Names of docs/contracts.md §1; tests pass their own so they never touch the real queue."""

    exchange: str = "statlig-ersattning.events"
    queue: str = "notifier.events"
    dead_letter_queue: str = "notifier.events.dead"
    # A message the broker redelivers this often (a crash loop) is dead-lettered by it.
    delivery_limit: int = 20
    # What the service tells the e-service (docs/contracts.md §1); None: not declared (tests).
    outcomes_exchange: str | None = None


@dataclass(frozen=True, slots=True)
class Declared:
    exchange: AbstractExchange
    queue: AbstractQueue
    dead: AbstractQueue


# The dead-letter queue is a quorum queue, replicated like the events queue: a classic
# queue lives on one node, and while that node is down a dead letter is unroutable and no
# consumer can even declare it. Not a stream: `dead-letters replay` removes each message
# it replays, which a stream cannot. `dead-letters list` returns what it shows, and each
# return counts toward a quorum queue's delivery limit (20 by default on RabbitMQ 4, then
# the message is dropped): the limit is set where no listing reaches it.
DEAD_LETTER_DELIVERY_LIMIT = 1_000_000


def dead_letter_arguments() -> FieldTable:
    return {"x-queue-type": "quorum", "x-delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}


class ClassicDeadLetterQueue(RuntimeError):
    """The dead-letter queue exists from before as a classic queue."""


async def declare(channel: AbstractChannel, topology: Topology) -> Declared:
    exchange = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    try:
        dead = await channel.declare_queue(
            topology.dead_letter_queue, durable=True, arguments=dead_letter_arguments()
        )
    except ChannelPreconditionFailed as exc:
        raise ClassicDeadLetterQueue(
            f"{topology.dead_letter_queue} is a classic queue; stop the consumers and run "
            "`notifier dead-letters migrate` (docs/operations.md)"
        ) from exc
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


def node_urls(setting: str) -> tuple[str, ...]:
    """The node URLs in NOTIFIER_AMQP_URL: one, or several of one cluster, comma-separated."""
    urls = tuple(url.strip() for url in setting.split(",") if url.strip())
    if not urls:
        raise ValueError("NOTIFIER_AMQP_URL names no RabbitMQ node")
    return urls


CONNECT_ERRORS = (OSError, TimeoutError, aio_pika.exceptions.AMQPError)


class _Robust(aio_pika.RobustConnection):
    """A robust connection closed when its first connect fails: aio-pika leaves it open,
    and its __del__ then makes a `close()` coroutine that nothing awaits."""

    async def connect(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (aio-pika's own)
        try:
            await super().connect(timeout)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.close()
            raise


class _Plain(aio_pika.Connection):
    """The same for a plain connection of a short command."""

    async def connect(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (aio-pika's own)
        try:
            await super().connect(timeout)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.close()
            raise


class Nodes:
    """The nodes of one cluster, each connection tried from the node after the last one
    connected to: after a loss, the others first."""

    def __init__(self, setting: str, *, node_timeout: float = 5.0) -> None:
        self.urls = node_urls(setting)
        self._node_timeout = node_timeout
        self._next = 0
        self.connected_to: str | None = None

    def _in_turn(self) -> list[str]:
        start = self._next % len(self.urls)
        return [*self.urls[start:], *self.urls[:start]]

    async def connect_once(self, *, robust: bool = True) -> AbstractConnection:
        """The first node that answers, each tried once; else the last node's error."""
        error: BaseException | None = None
        for url in self._in_turn():
            try:
                if robust:
                    connection: AbstractConnection = await aio_pika.connect_robust(
                        url, timeout=self._node_timeout, connection_class=_Robust
                    )
                else:
                    connection = await aio_pika.connect(
                        url, timeout=self._node_timeout, connection_class=_Plain
                    )
            except CONNECT_ERRORS as exc:
                error = exc
                log.warning(
                    "RabbitMQ does not answer at %s (%s)", safe_url(url), exc or type(exc).__name__
                )
                continue
            self._next = self.urls.index(url) + 1
            self.connected_to = url
            return connection
        assert error is not None
        raise error

    async def connect(self, *, max_delay: float = 30.0) -> AbstractRobustConnection:
        """A robust connection to the first node that answers, waiting as long as it takes
        for one to (aio-pika reconnects a connection once open, not the first time)."""
        delay = 1.0
        while True:
            try:
                connection = await self.connect_once()
            except CONNECT_ERRORS:
                log.warning(
                    "no RabbitMQ node answers; events wait in the broker, consuming starts "
                    "by itself once one answers; next try in %.0f s",
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            assert isinstance(connection, AbstractRobustConnection)
            return connection


async def connect(setting: str, *, max_delay: float = 30.0) -> AbstractRobustConnection:
    """A robust connection to a node of NOTIFIER_AMQP_URL, waiting for one to answer."""
    return await Nodes(setting).connect(max_delay=max_delay)


async def connect_once(setting: str) -> AbstractConnection:
    """A plain connection for a short command: the first node of NOTIFIER_AMQP_URL that
    answers, or the error of the last one."""
    return await Nodes(setting).connect_once(robust=False)
