"""GET /metrics: the outbox and the ticket queues as Prometheus reads them."""

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.models import OutboxMessage, OutboxStatus
from tests.test_support_api_idempotency import SEA_QUESTION

STATE = ("notifier_outbox", "notifier_tickets")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_the_outbox_and_the_tickets(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert (await client.post("/api/v1/support/tickets", json=SEA_QUESTION)).status_code == 201
    async with db.sessionmaker(engine)() as session:
        session.add(
            OutboxMessage(
                message_id="<m1@test>",
                kind="notification",
                recipient="a@b.se",
                status=OutboxStatus.FAILED,
                next_attempt_at=utcnow() - timedelta(hours=1),
            )
        )
        await session.commit()

    response = await client.get("/metrics")
    assert response.status_code == 200
    found = samples(response.text)
    assert found[("notifier_outbox_messages", (("kind", "ticket"), ("status", "pending")))] == 1
    assert (
        found[("notifier_outbox_messages", (("kind", "notification"), ("status", "failed")))] == 1
    )
    assert found[("notifier_tickets", (("destination", "sea"), ("status", "new")))] == 1
    # The ticket's forward has been due since it was queued, a moment ago.
    assert 0 <= found[("notifier_outbox_oldest_pending_seconds", ())] < 60


async def test_metrics_of_an_empty_service(client: httpx.AsyncClient) -> None:
    found = samples((await client.get("/metrics")).text)
    state = {key: value for key, value in found.items() if key[0].startswith(STATE)}
    assert state == {("notifier_outbox_oldest_pending_seconds", ()): 0.0}
    # This process's own figures follow, all at zero.
    assert found[("notifier_recipients_matched_total", ())] == 0.0
