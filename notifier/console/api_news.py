"""Announcements ("Aktuellt i e-tjänsten") over the API: written, counted, sent now or
scheduled, listed and cancelled before they go. Operators (or the admin token) only;
every action is audited."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, JsonValue, StringConstraints

from domain.compensation import COMPENSATION_TYPES
from domain.organisations import OrganisationKind, OrganisationRef
from domain.text import MultiLine, SingleLine
from domain.web import PathText, SessionDep, refusals
from notifier.console import actions
from notifier.console import announcements as news
from notifier.console.access import OperatorDep
from notifier.console.models import Announcement
from notifier.console.state import ConsoleDep
from notifier.outbox.events import CompensationCode

NOT_FOUND = "Meddelandet finns inte."
_TYPES: list[JsonValue] = [*sorted(COMPENSATION_TYPES)]
ALREADY_SENT = "Meddelandet har redan skickats eller stoppats."
NOT_SENT = (
    "Meddelandet är sparat men kunde inte skickas nu (RabbitMQ svarar inte); "
    "det skickas så snart det går."
)
router = APIRouter(tags=["operators"], responses=refusals(401, 403, 404))


def _written(value: object) -> object:
    """A time as ISO 8601 text (or a datetime), never a number of seconds: the schema says
    `date-time`, and 0 would be 1970."""
    if not isinstance(value, str | datetime):
        raise ValueError("Ange tiden som ISO 8601, t.ex. 2026-12-24T09:00:00+01:00.")
    return value


class AnnouncementIn(BaseModel):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
    ]
    # Markdown: paragraphs, lists, links (rendered without any HTML of its own).
    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), MultiLine
    ]
    compensation_types: list[CompensationCode] = Field(
        default_factory=list,
        max_length=len(COMPENSATION_TYPES),
        json_schema_extra={"items": {"enum": _TYPES}},
    )
    organisations: list[OrganisationRef] = Field(default_factory=list, max_length=400)
    # Every kommun, or every region; where `organisations` names some, they are the target.
    organisation_kind: OrganisationKind | None = None
    send_at: Annotated[AwareDatetime, BeforeValidator(_written)] | None = None  # unset: now


def out(announcement: Announcement) -> dict[str, Any]:
    return announcement.model_dump(mode="json")


@router.post("/announcements", status_code=status.HTTP_201_CREATED, responses=refusals(503))
async def create(
    body: AnnouncementIn, session: SessionDep, console: ConsoleDep, me: OperatorDep
) -> dict[str, Any]:
    """Counts the recipients per level, then sends now or keeps it until `send_at`."""
    now = console.now()
    announcement = await actions.create_announcement(session, console, me, drafted(body, now))
    if announcement.send_at <= now:
        try:
            await actions.send_announcement(console, me, announcement.id)
        except Exception:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_SENT) from None
    await session.refresh(announcement)
    return out(announcement)


def drafted(body: AnnouncementIn, now: datetime) -> Announcement:
    """The announcement as written; `create_announcement` gives it its id and author."""
    return Announcement(
        id="",
        created_by="",
        title=body.title,
        body=body.body,
        compensation_types=sorted(set(body.compensation_types)),
        organisations=[o.model_dump(mode="json") for o in body.organisations],
        organisation_kind=body.organisation_kind,
        send_at=body.send_at or now,
    )


@router.get("/announcements")
async def listed(session: SessionDep, me: OperatorDep) -> list[dict[str, Any]]:
    """Newest first."""
    return [out(a) for a in await news.listed(session=session)]


@router.delete("/announcements/{announcement_id}", responses=refusals(409))
async def cancel(announcement_id: PathText, session: SessionDep, me: OperatorDep) -> dict[str, Any]:
    """Cancels one not yet sent; 409 once it has gone (or was cancelled)."""
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    try:
        await actions.cancel_announcement(session, me, announcement)
    except news.AlreadySent:
        raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_SENT) from None
    return out(announcement)
