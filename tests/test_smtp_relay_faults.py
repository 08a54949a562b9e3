"""The SMTP channel against a relay that misbehaves as real ones do, pipelined and not:
a 421 that closes the connection, answers over several lines, kept connections closed
between a batch's messages. Every message arrives once; only the deferred one waits."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.channels.base import PermanentDeliveryError, TransientDeliveryError
from notifier.channels.smtp import SmtpChannel, SmtpConfig
from tests.pipeline_helpers import outbox
from tests.smtp_server import Mailbox, free_port, start_smtp
from tests.test_sender import queue_event, queued, sender
from tests.test_smtp_transaction import claimed

__all__ = ["queued"]  # the fixture


@pytest.fixture
def relay(pipelining: bool, request: pytest.FixtureRequest) -> Iterator[tuple[int, Mailbox]]:
    options: dict[str, Any] = getattr(request, "param", {})
    port = free_port()
    controller, mailbox = start_smtp(port, Mailbox(pipelining=pipelining, **options))
    yield port, mailbox
    controller.stop()


def channel(port: int, connections: int = 1) -> SmtpChannel:
    config = SmtpConfig("127.0.0.1", port)
    return SmtpChannel(config, "no-reply@example.se", timeout=5, connections=connections)


async def deliver(port: int, count: int, **options: Any) -> dict[int, Exception | None]:
    smtp = channel(port, **options)
    try:
        return await smtp.deliver([claimed(n, f"p{n}@kommun.example.se") for n in range(count)])
    finally:
        await smtp.aclose()


@pytest.mark.parametrize("relay", [{"close_after": 3}], indirect=True)
async def test_kept_connections_closed_mid_batch_cost_no_message_and_no_repeat(
    relay: tuple[int, Mailbox],
) -> None:
    port, mailbox = relay
    assert await deliver(port, 10) == dict.fromkeys(range(10))
    assert sorted(mailbox.message_ids()) == sorted(f"<m{n}@example.se>" for n in range(10))
    assert mailbox.closed == 3 and mailbox.sessions == 4


@pytest.mark.parametrize("relay", [{"closing": True, "multiline": True}], indirect=True)
async def test_a_421_that_closes_the_connection_defers_its_message_only(
    relay: tuple[int, Mailbox],
) -> None:
    port, mailbox = relay
    mailbox.busy = 1
    outcomes = await deliver(port, 4)
    assert isinstance(outcomes[0], TransientDeliveryError) and "421" in str(outcomes[0])
    assert [outcomes[n] for n in (1, 2, 3)] == [None, None, None]
    assert len(mailbox.messages) == 3 and mailbox.closed == 1 and mailbox.sessions == 2


@pytest.mark.parametrize("relay", [{"multiline": True}], indirect=True)
async def test_answers_over_several_lines_are_read_whole(relay: tuple[int, Mailbox]) -> None:
    port, mailbox = relay
    smtp = channel(port)
    rows = [claimed(1, "refused@b.se"), claimed(2, "a@b.se"), claimed(3, "c@b.se")]
    outcomes = await smtp.deliver(rows)
    await smtp.aclose()
    assert isinstance(outcomes[1], PermanentDeliveryError)
    assert "550" in str(outcomes[1]) and "<refused@b.se>" in str(outcomes[1])
    assert outcomes[2] is None and outcomes[3] is None
    assert len(mailbox.messages) == 2 and mailbox.sessions == 1  # one connection throughout


@pytest.mark.parametrize(
    "relay", [{"closing": True, "multiline": True, "close_after": 2}], indirect=True
)
async def test_the_sender_delivers_a_batch_once_through_a_relay_that_misbehaves(
    queued: AsyncEngine, relay: tuple[int, Mailbox]
) -> None:
    port, mailbox = relay
    mailbox.busy = 1
    for _ in range(2):
        await queue_event(queued)  # six rows in all
    smtp = channel(port, connections=2)
    run = sender(queued, smtp)
    assert await run.send_batch() == 6
    assert await run.send_batch() == 1  # the deferred one, due again at once (NO_WAIT)
    await smtp.aclose()
    rows = await outbox(queued)
    assert {row.status for row in rows} == {"sent"}
    assert len(mailbox.messages) == 6 == len(set(mailbox.message_ids()))


def test_the_relays_here_write_what_they_promise() -> None:
    """The relay's multi-line answer is the SMTP form: "250-…" lines, then "250 …"."""
    answer = Mailbox(multiline=True)._answer("550 5.1.1 No such mailbox", "<a@b.se>")
    assert answer == "550-5.1.1 No such mailbox\r\n550 <a@b.se>"
