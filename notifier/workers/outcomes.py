"""The "amqp" channel: outbox rows published on the service's own topic exchange,
`notifier.outcomes` (docs/contracts.md §1), for the e-service. Persistent messages, each
confirmed by the broker before its row is recorded sent; while the broker is away a
row is a transient failure, retried by the sender like an email.
"""

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from notifier.channels.base import Files, Results, TransientDeliveryError
from notifier.outbox.models import Claimed
from notifier.workers import broker

log = logging.getLogger(__name__)


async def declare_outcomes(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_at_start(url: str, name: str) -> None:
    """A sending process declares the exchange when it starts (docs/contracts.md §1), so that the
    e-service can bind its queue before the first message; waits for the broker."""
    try:
        connection = await broker.connect(url)
        async with connection:
            await declare_outcomes(await connection.channel(), name)
    except asyncio.CancelledError:
        raise
    except Exception:  # publishing declares it again; sending goes on meanwhile
        log.exception("could not declare the exchange %s", name)


class OutcomePublisher:
    """One kept connection and confirming channel, opened at the first publish."""

    def __init__(self, url: str, exchange: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._name = exchange
        self._timeout = timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        try:
            exchange = await self._open()
        except Exception as exc:  # the broker away: every row is tried again later
            failure = TransientDeliveryError(f"RabbitMQ: {type(exc).__name__}: {exc}")
            return dict.fromkeys((message.id for message in messages), failure)
        results: Results = {}
        for message in messages:
            results[message.id] = await self._publish(exchange, message)
        return results

    async def _publish(self, exchange: AbstractExchange, message: Claimed) -> Exception | None:
        body = aio_pika.Message(
            (message.body_text or "").encode(),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
        )
        try:
            # With publisher confirms this returns once the broker has taken it.
            await exchange.publish(body, routing_key=message.recipient, timeout=self._timeout)
        except Exception as exc:
            self._exchange = None  # a fresh channel for the next try
            return TransientDeliveryError(f"RabbitMQ: {type(exc).__name__}: {exc}")
        return None

    async def _open(self) -> AbstractExchange:
        if self._exchange is not None and self._channel is not None and not self._channel.is_closed:
            return self._exchange
        if self._connection is None or self._connection.is_closed:
            # Each node tried once (broker.connect would wait as long as it takes, and a
            # sender must not): the broker away is a transient failure of these rows.
            nodes = broker.Nodes(self._url, node_timeout=self._timeout)
            connection = await nodes.connect_once()
            assert isinstance(connection, AbstractRobustConnection)
            self._connection = connection
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await declare_outcomes(self._channel, self._name)
        return self._exchange

    async def aclose(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
