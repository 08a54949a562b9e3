"""The console's API of what the service says: every template previewed and test-sent,
and the announcements operators write. Operators (or the admin token) only; every action
is audited."""

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, EmailStr, Field

from domain.compensation import PermissionLevel
from domain.web import PathText, SessionDep, refusals
from notifier.console import actions, sends
from notifier.console.access import OperatorDep, invalid
from notifier.console.previews import TEMPLATES, TEXT_ONLY, Preview
from notifier.console.state import ConsoleDep, ConsoleWeb

NO_TEMPLATE = "Mallen finns inte."
NOT_TO_USERS = "Adressen tillhör en användare: testutskick går aldrig till användare."
TOO_MANY_TESTS = "För många testutskick på kort tid. Vänta en stund och försök igen."

router = APIRouter(tags=["operators"], responses=refusals(401, 403, 404))


@router.get("/templates")
async def templates(me: OperatorDep) -> list[dict[str, Any]]:
    """Every email the service sends, with the levels it is rendered at."""
    levels = [level.value for level in PermissionLevel]
    return [
        {"name": name, "label": label, "levels": [] if name in TEXT_ONLY else levels}
        for name, label in TEMPLATES.items()
    ]


@router.get("/templates/{name}/preview")
async def preview(
    name: PathText,
    console: ConsoleDep,
    me: OperatorDep,
    level: PermissionLevel = PermissionLevel.FULL,
) -> dict[str, str | None]:
    """The email as a recipient holding `level` would get it; `html` is null for an email
    that is text only."""
    found = _render(console, name, level)
    return {"subject": found.subject, "text": found.text, "html": found.html}


def _render(console: ConsoleWeb, name: str, level: PermissionLevel) -> Preview:
    if name not in TEMPLATES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_TEMPLATE)
    return console.previews.render(name, level)


class TestIn(BaseModel):
    to: EmailStr = Field(max_length=320)
    level: PermissionLevel = PermissionLevel.FULL


@router.post(
    "/templates/{name}/test", status_code=status.HTTP_202_ACCEPTED, responses=refusals(429)
)
async def test_send(
    name: PathText,
    body: TestIn,
    session: SessionDep,
    console: ConsoleDep,
    me: OperatorDep,
) -> dict[str, str]:
    """Sends the template once to `to` through the outbox, marked as a test; never to an
    address of a user of the service (422)."""
    if name not in TEMPLATES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_TEMPLATE)
    if (wait := await console.test_sends.hit("template-test", me.actor)) is not None:
        raise HTTPException(429, TOO_MANY_TESTS, headers={"Retry-After": str(wait)})
    try:
        message_id = await actions.test_send(
            session, console, me, name=name, level=body.level, to=body.to
        )
    except sends.NotATestAddress:
        raise invalid("body", "to", NOT_TO_USERS) from None
    return {"message_id": message_id, "status": "pending"}
