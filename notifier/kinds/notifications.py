"""The notification kind's steps: before delivery, each row becomes an email rendered from
its stored event at the permission level recorded when it was matched.

The event is validated once per event and each email rendered once per (event, level):
what differs per recipient (the unsubscribe and preference links) is filled into the
rendered text, so a payment run's thousand recipients of one event cost one render, not a thousand.
"""

import asyncio
import logging
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import PermissionLevel
from notifier.channels.base import PermanentDeliveryError
from notifier.kinds import Prepared
from notifier.kinds.rendering import Email, PreferencesUrl, Renderer, UnsubscribeUrl
from notifier.outbox.events import Event, parse_payload
from notifier.outbox.models import Claimed, OutboxStatus, ProcessedEvent
from subscriptions.models import User

log = logging.getLogger(__name__)

# Stands for the recipient's own link in an email rendered for every recipient alike.
# Only URL-safe characters, so it reads the same in text, HTML and headers.
PLACEHOLDER = "https://placeholder.invalid/per-recipient-link"
PREFERENCES_PLACEHOLDER = "https://placeholder.invalid/per-recipient-preferences"


class NotificationSteps:
    """`renderer` is built with `placeholder_links` and `placeholder_preferences`;
    `unsubscribe_url` and `preferences_url` make the real ones."""

    def __init__(
        self,
        renderer: Renderer,
        unsubscribe_url: UnsubscribeUrl,
        preferences_url: PreferencesUrl,
    ) -> None:
        self._renderer = renderer
        self._unsubscribe_url = unsubscribe_url
        self._preferences_url = preferences_url

    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        live = await self._cancel_orphans(session, rows)
        found = await session.exec(
            select(ProcessedEvent).where(
                col(ProcessedEvent.event_id).in_({row.event_id for row in live})
            )
        )
        payloads = {event.event_id: event.payload for event in found}
        events: dict[str, Event | Exception] = {}
        emails: dict[tuple[str, str | None], Email | Exception] = {}
        for row in live:
            # Between rows the event loop serves the connections of the batch in flight:
            # preparing a batch at one go left them (and the relay) idle for its length.
            await asyncio.sleep(0)
            assert row.event_id is not None
            if row.event_id not in events:
                events[row.event_id] = _parse(payloads.get(row.event_id))
            key = (row.event_id, row.level)
            if key not in emails:
                emails[key] = self._render(events[row.event_id], row.level)
            email, event = emails[key], events[row.event_id]
            if isinstance(email, Exception):
                prepared.failures[row.id] = email
            elif isinstance(event, Event):
                self._fill(row, email, event.event_type)

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        return None

    async def _cancel_orphans(self, session: AsyncSession, rows: list[Claimed]) -> list[Claimed]:
        """Cancel rows whose user was deleted; the rest get the address in force now (the
        e-service may have changed it since the event was matched)."""
        found = await session.exec(
            select(User.id, User.email).where(col(User.id).in_({r.user_id for r in rows}))
        )
        emails = dict(found.all())
        live = []
        for row in rows:
            if row.user_id in emails:
                row.recipient = emails[row.user_id]
                live.append(row)
            else:
                row.status = OutboxStatus.CANCELLED
                row.last_error = "the user was deleted before the email was sent"
        return live

    def _render(self, event: Event | Exception, level: str | None) -> Email | Exception:
        """The email for every holder of `level`; a failure is permanent."""
        if isinstance(event, Exception):
            return event
        try:
            grant = PermissionLevel(level) if level else None
            return self._renderer.render(event, level=grant, user_id="")
        except Exception as exc:
            log.exception("cannot render event %s", event.event_id)
            return PermanentDeliveryError(f"cannot render: {exc!r}"[:500])

    def _fill(self, row: Claimed, email: Email, event_type: str) -> None:
        """The row (in memory only) as this recipient's email."""
        links = {
            PLACEHOLDER: self._unsubscribe_url(row.user_id or "", event_type),
            PREFERENCES_PLACEHOLDER: self._preferences_url(row.user_id or ""),
        }
        row.subject = email.subject
        row.body_text = fill(email.text, links)
        row.body_html = fill(email.html, links)
        row.headers = row.headers | {
            name: fill(value, links) for name, value in email.headers.items()
        }


def fill(text: str, links: dict[str, str]) -> str:
    for placeholder, link in links.items():
        text = text.replace(placeholder, link)
    return text


def _parse(payload: dict[str, Any] | None) -> Event | Exception:
    if payload is None:
        return PermanentDeliveryError("the stored event is missing")
    try:
        return parse_payload(payload)
    except Exception as exc:
        return PermanentDeliveryError(f"cannot render: {exc!r}"[:500])


def placeholder_links(user_id: str, event_type: str) -> str:
    """For the renderer: every recipient's link is filled in per row by NotificationSteps."""
    return PLACEHOLDER


def placeholder_preferences(user_id: str) -> str:
    """For the renderer, like `placeholder_links`."""
    return PREFERENCES_PLACEHOLDER
