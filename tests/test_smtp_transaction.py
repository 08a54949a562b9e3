"""One mail transaction as the relay sees it: plain envelope addresses written as they
are, SIZE announced with the exact octets, a refusal followed by RSET so that the kept
connection carries the next message, and addresses that cannot be sent refused."""

import asyncio
import re
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from hypothesis import given
from hypothesis import strategies as st

from notifier.channels.base import PermanentDeliveryError, TransientDeliveryError
from notifier.channels.mime import Composer
from notifier.channels.pipelining import SmtpConnection
from notifier.channels.smtp import SmtpChannel, SmtpConfig
from notifier.channels.transaction import classify, dot_stuffed, envelope_address, send
from notifier.outbox.models import Claimed, OutboxMessage
from tests.smtp_server import Mailbox, free_port, start_smtp


class Envelopes(Mailbox):
    """Keeps each MAIL command's address and options; refuses senders named blocked."""

    def __init__(self, *, pipelining: bool = False) -> None:
        super().__init__(pipelining=pipelining)
        self.mail: list[tuple[str, list[str]]] = []
        self.resets = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("blocked"):
            return "553 5.7.1 Sender not allowed"
        self.mail.append((address, options))
        envelope.mail_from, envelope.mail_options = address, options
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(address.startswith("silent") for address in envelope.rcpt_tos):
            await asyncio.sleep(30)  # a relay that never answers
        if any(address.startswith("spam") for address in envelope.rcpt_tos):
            return "554 5.7.1 Message refused"
        return await super().handle_DATA(server, session, envelope)

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self.resets += 1
        return "250 OK"


def claimed(id: int, recipient: str, body: str = "Hej!") -> Claimed:
    row = OutboxMessage(
        id=id, message_id=f"<m{id}@x>", kind="k", recipient=recipient, body_text=body
    )
    return Claimed(**row.model_dump())


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelined"])
def envelopes(request: pytest.FixtureRequest) -> Any:
    port = free_port()
    controller, mailbox = start_smtp(port, Envelopes(pipelining=request.param))
    yield port, mailbox
    controller.stop()


@pytest.fixture
async def relay(envelopes: Any) -> Any:
    port, mailbox = envelopes
    connection = await SmtpConnection.open(
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5)
    )
    assert connection.pipelining == mailbox.pipelining
    yield connection, mailbox
    await connection.quit()


async def test_the_envelope_is_plain_and_announces_the_exact_size(relay: Any) -> None:
    connection, mailbox = relay
    composer = Composer("no-reply@example.se")
    message = claimed(1, "anna.berg@stockholm.se", body=".a line starting with a dot\n")
    await send(connection, message, composer)
    [(sender, options)] = mailbox.mail
    assert sender == "no-reply@example.se"
    assert options == [f"SIZE={len(composer.wire(message, ()))}"]
    # Stuffed with a second dot on the wire (RFC 5321 §4.5.2), unstuffed by the server.
    assert b"\r\n.a line starting with a dot\r\n" in mailbox.raw[0]
    [email] = mailbox.messages
    assert email["To"] == "anna.berg@stockholm.se"
    assert ".a line starting with a dot" in email.get_body(("plain",)).get_content()


async def test_a_message_is_two_writes_where_the_relay_pipelines(relay: Any) -> None:
    """MAIL, RCPT and DATA in one write, then the content: two round trips, not four."""
    connection, mailbox = relay
    writes: list[bytes] = []
    write = connection._transport.write
    connection._transport.write = lambda data: (writes.append(data), write(data))[1]
    await send(connection, claimed(1, "anna.berg@stockholm.se"), Composer("no-reply@example.se"))
    assert len(writes) == (2 if mailbox.pipelining else 4)
    assert writes[0].startswith(b"MAIL FROM:<no-reply@example.se> SIZE=")
    assert len(mailbox.messages) == 1


async def test_a_refusal_resets_the_envelope_and_the_connection_carries_the_next(
    relay: Any,
) -> None:
    connection, mailbox = relay
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await send(connection, claimed(1, "a@b.se"), Composer("blocked@example.se"))
    assert isinstance(classify(refused.value), PermanentDeliveryError)
    assert refused.value.sender == "blocked@example.se"
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as deferred:
        await send(connection, claimed(2, "busy@b.se"), Composer("no-reply@example.se"))
    assert isinstance(classify(deferred.value), TransientDeliveryError)
    assert [error.recipient for error in deferred.value.recipients] == ["busy@b.se"]
    assert mailbox.resets == 2
    await send(connection, claimed(3, "a@b.se"), Composer("no-reply@example.se"))
    assert len(mailbox.messages) == 1


async def test_content_refused_at_its_end_resets_and_the_connection_carries_the_next(
    relay: Any,
) -> None:
    connection, mailbox = relay
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await send(connection, claimed(1, "spam@b.se"), Composer("no-reply@example.se"))
    assert isinstance(classify(refused.value), PermanentDeliveryError)
    assert mailbox.resets == 1
    await send(connection, claimed(2, "a@b.se"), Composer("no-reply@example.se"))
    assert len(mailbox.messages) == 1


LINES = ["", ".", "..", ".x", "a.b", "x", " .", "a\r", "é", "b\n"]  # lone CR and LF too


# aiosmtplib's own regular expressions for DATA (aiosmtplib.protocol, not a public name).
ITS_LINE_ENDINGS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
ITS_PERIODS = re.compile(rb"(?m)^\.")


@given(st.lists(st.sampled_from(LINES), max_size=8))
def test_the_content_is_stuffed_as_aiosmtplib_stuffs_it(lines: list[str]) -> None:
    """What aiosmtplib's `data` writes (its regular expressions), without them for content
    that is CRLF already."""
    data = "".join(line + "\r\n" for line in lines).encode()
    expected = ITS_PERIODS.sub(b"..", ITS_LINE_ENDINGS.sub(b"\r\n", data) or b"\r\n") + b".\r\n"
    assert dot_stuffed(data) == expected


@pytest.mark.parametrize(
    ("address", "written"),
    [
        ("anna.berg@stockholm.se", b"<anna.berg@stockholm.se>"),
        ("åsa@kommun.se", "<åsa@kommun.se>".encode()),
        ('"anna berg"@stockholm.se', b'<"anna berg"@stockholm.se>'),
        ("anna@[192.0.2.1]", b"<anna@[192.0.2.1]>"),
    ],
)
def test_envelope_addresses(address: str, written: bytes) -> None:
    assert envelope_address(address, "utf-8") == written


@pytest.mark.parametrize("address", ["a@b.se\r\nRCPT TO:<c@d.se>", "a\x00@b.se"])
def test_an_address_with_a_control_character_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        envelope_address(address, "utf-8")


async def test_a_relay_that_does_not_answer_in_time_costs_one_message_and_its_connection(
    envelopes: Any,
) -> None:
    port, mailbox = envelopes
    channel = SmtpChannel(
        SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=0.5, connections=1
    )
    outcomes = await channel.deliver([claimed(1, "silent@b.se"), claimed(2, "a@b.se")])
    assert isinstance(outcomes[1], TransientDeliveryError)
    assert "did not answer in 0.5 s" in str(outcomes[1])
    assert outcomes[2] is None and mailbox.sessions == 2  # the next one on a new connection
    await channel.aclose()


def utf8_relay(pipelining: bool, smtputf8: bool) -> tuple[Controller, int, Envelopes]:
    port = free_port()
    mailbox = Envelopes(pipelining=pipelining)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    return controller, port, mailbox


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
async def test_an_international_address_through_a_relay_without_smtputf8_fails_at_once(
    pipelining: bool,
) -> None:
    """Only SMTPUTF8 carries a non-ASCII address: a relay that does not offer it will not
    take it later either, so the message fails now rather than being retried for hours."""
    controller, port, mailbox = utf8_relay(pipelining, smtputf8=False)
    try:
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=5)
        outcomes = await channel.deliver([claimed(1, "åsa@kommun.se"), claimed(2, "a@b.se")])
        await channel.aclose()
    finally:
        controller.stop()
    assert isinstance(outcomes[1], PermanentDeliveryError) and "SMTPUTF8" in str(outcomes[1])
    assert outcomes[2] is None and len(mailbox.messages) == 1


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
async def test_an_international_address_goes_where_the_relay_offers_smtputf8(
    pipelining: bool,
) -> None:
    controller, port, mailbox = utf8_relay(pipelining, smtputf8=True)
    try:
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=5)
        assert await channel.deliver([claimed(1, "åsa@kommun.se")]) == {1: None}
        await channel.aclose()
    finally:
        controller.stop()
    [(_, options)] = mailbox.mail
    assert "SMTPUTF8" in options and str(mailbox.messages[0]["To"]) == "åsa@kommun.se"
