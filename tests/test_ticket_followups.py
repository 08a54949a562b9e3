"""What follows a ticket through the outbox: a staff answer reaches the person who
asked, and a reroute supersedes a forward still waiting for the old destination."""

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from tests.test_triage import mint, open_ticket
from tests.test_web_form import DETAILS


@pytest.fixture
async def staff(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    return (await mint(client, admin))[1]


async def outbox_of(services: Services, ticket_id: str) -> list[OutboxMessage]:
    async with AsyncSession(services.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
        return list((await session.exec(query.order_by(col(OutboxMessage.id)))).all())


async def test_a_staff_answer_is_mailed_to_the_person_who_asked(
    client: httpx.AsyncClient, services: Services, staff: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    base = f"/api/v1/triage/tickets/{ticket_id}"
    await client.post(f"{base}/claim", headers=staff)
    answered = await client.post(f"{base}/answer", json={"text": "Så här gör du."}, headers=staff)
    assert answered.status_code == 200, answered.text

    answers = [m for m in await outbox_of(services, ticket_id) if ".answer." in m.message_id]
    assert [(m.recipient, m.channel, m.status) for m in answers] == [
        (DETAILS["email"], "email", "pending")
    ]
    assert "Så här gör du." in (answers[0].body_text or "")
    assert (answers[0].subject or "").endswith(f"[{answered.json()['reference']}]")
    # A person wrote it (RFC 3834); the receipt is automatic.
    [receipt] = [
        m for m in await outbox_of(services, ticket_id) if m.message_id.endswith("receipt")
    ]
    assert answers[0].headers.get("Auto-Submitted") == "no"
    assert "Auto-Submitted" not in receipt.headers


async def test_an_answer_that_greets_is_not_greeted_twice_and_both_close_alike(
    client: httpx.AsyncClient, services: Services, staff: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    base = f"/api/v1/triage/tickets/{ticket_id}"
    await client.post(f"{base}/claim", headers=staff)
    text = "Hej Anna!\n\nSå här gör du."
    await client.post(f"{base}/answer", json={"text": text}, headers=staff)

    sent = {
        "answer" if ".answer." in m.message_id else m.message_id.rsplit(".", 1)[-1]: m.body_text
        or ""
        for m in await outbox_of(services, ticket_id)
    }
    assert sent["answer"].startswith(text)
    assert sent["answer"].count("Hej") == 1
    assert "Du får svar via e-post, oftast inom två arbetsdagar." in sent["receipt"]
    support = f"{services.settings.base_url}/support"
    for body in (sent["answer"], sent["receipt"]):
        signature = body.split("\n-- \n", 1)[1]
        assert signature.startswith("Migrationsverket, Ansök om statlig ersättning\nReferens: ")
        assert f"Ställ en ny fråga på supportsidan, {support}, och ange referensen." in signature


async def test_a_reroute_cancels_the_forward_still_waiting_for_the_old_destination(
    client: httpx.AsyncClient, services: Services, staff: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    rerouted = await client.post(
        f"/api/v1/triage/tickets/{ticket_id}/reroute",
        json={"destination": "sen", "reason": "Gäller nyanlända."},
        headers=staff,
    )
    assert rerouted.status_code == 200, rerouted.text

    forwards = [m for m in await outbox_of(services, ticket_id) if m.kind == "ticket"]
    assert [(m.message_id.split(".")[2], m.status) for m in forwards] == [
        ("sea", "cancelled"),
        ("sen", "pending"),
    ]
