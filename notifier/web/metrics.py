"""GET /metrics for Prometheus: the state of the outbox and of the ticket queues, and the
live figures of this process's consumer and sender (under `serve`).

The state is read from the database at scrape time, so it is that of the whole deployment
however many consume, send and api processes run; no counter lives in a global.
"""

from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from domain.web import SessionDep
from notifier.outbox.models import OutboxMessage, OutboxStatus
from notifier.workers.telemetry import PipelineMetrics
from routing.ticketing.models import Ticket
from subscriptions.suppressions import BounceRecord, Suppression


class _Snapshot(Collector):
    """Hands metric families already read to prometheus_client, whose collectors are
    synchronous while our database is not."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


async def read_metrics(session: AsyncSession) -> list[Metric]:
    outbox = GaugeMetricFamily(
        "notifier_outbox_messages", "Outbox messages by status and kind", labels=["status", "kind"]
    )
    query = select(OutboxMessage.status, OutboxMessage.kind, func.count()).group_by(
        col(OutboxMessage.status), col(OutboxMessage.kind)
    )
    for status, kind, count in await session.exec(query):
        outbox.add_metric([status, kind], count)

    oldest = (
        await session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                col(OutboxMessage.status) == OutboxStatus.PENDING
            )
        )
    ).one()
    waiting = GaugeMetricFamily(
        "notifier_outbox_oldest_pending_seconds",
        "How long the longest-waiting pending message has been due (0 when none is)",
    )
    waiting.add_metric([], max((utcnow() - oldest).total_seconds(), 0.0) if oldest else 0.0)

    tickets = GaugeMetricFamily(
        "notifier_tickets",
        "Support tickets by status and destination",
        labels=["status", "destination"],
    )
    ticket_query = select(Ticket.status, Ticket.destination, func.count()).group_by(
        col(Ticket.status), col(Ticket.destination)
    )
    for status, destination, count in await session.exec(ticket_query):
        tickets.add_metric([status, destination], count)
    return [outbox, waiting, tickets, *await bounce_metrics(session)]


async def bounce_metrics(session: AsyncSession) -> list[Metric]:
    """Bounces received (kept for the retention period) and the addresses suppressed now.
    Suppressed and bounced emails are notifier_outbox_messages{status=…}."""
    bounces = GaugeMetricFamily(
        "notifier_bounces", "Bounces received within the retention period", labels=["kind"]
    )
    counts = dict(
        (
            await session.exec(
                select(BounceRecord.hard, func.count()).group_by(col(BounceRecord.hard))
            )
        ).all()
    )
    for hard, kind in ((True, "hard"), (False, "soft")):
        bounces.add_metric([kind], counts.get(hard, 0))
    live = select(func.count()).where(col(Suppression.lifted_at).is_(None))
    suppressed = GaugeMetricFamily("notifier_suppressed_addresses", "Addresses not mailed now")
    suppressed.add_metric([], (await session.exec(live)).one())
    return [bounces, suppressed]


router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, session: SessionDep) -> Response:
    """The deployment's state, then this process's own consumer and sender figures."""
    families = await read_metrics(session)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    own: PipelineMetrics = request.app.state.services.metrics
    body = generate_latest(registry) + generate_latest(own.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
