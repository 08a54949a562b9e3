"""Test sends: one template, rendered as a preview is, through the real outbox and relay
to an address an operator gives, marked as a test (a "[TEST]" subject and a header), and
never to an address of a user of the service."""

import uuid

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import PermissionLevel
from notifier.console.previews import Previews
from notifier.outbox.models import OutboxKind, OutboxMessage
from subscriptions.models import User

TEST_HEADER = "X-Notifier-Test"
PREFIX = "[TEST] "
# A test's unsubscribe headers would point at an example page: left out.
DROPPED_HEADERS = {"List-Unsubscribe", "List-Unsubscribe-Post"}


class NotATestAddress(ValueError):
    """The address is a user's: a test never reaches a user."""


async def is_users_address(session: AsyncSession, address: str) -> bool:
    query = select(func.count()).select_from(User).where(func.lower(col(User.email)) == address)
    return (await session.exec(query)).one() > 0


async def queue_test(
    *,
    session: AsyncSession,
    previews: Previews,
    name: str,
    level: PermissionLevel,
    to: str,
) -> OutboxMessage:
    """The test's outbox row, added to `session`; KeyError for an unknown template."""
    address = to.strip().lower()
    if await is_users_address(session, address):
        raise NotATestAddress(address)
    preview = previews.render(name, level)
    headers = {k: v for k, v in preview.headers.items() if k not in DROPPED_HEADERS}
    row = OutboxMessage(
        message_id=f"test.{uuid.uuid4()}",
        kind=OutboxKind.TEST,
        channel="email",
        recipient=address,
        level=level.value,
        subject=PREFIX + preview.subject,
        body_text=preview.text,
        body_html=preview.html,
        # The template and the level, so whoever receives it sees what it is.
        headers=headers | {TEST_HEADER: f"{name}; {level.value}"},
    )
    session.add(row)
    return row
