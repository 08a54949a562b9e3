"""The console's pages without a browser: forms that say what is wrong beside each field,
the review step before an announcement goes, CSRF on every POST, and actions audited."""

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from domain.swedish import SWEDISH_TIME
from notifier import db
from notifier.compose import Services
from tests.pipeline_helpers import DYGN, add_user
from tests.test_triage import login, mint
from tests.test_web_form import csrf_of

LATER = (utcnow() + timedelta(days=1)).astimezone(SWEDISH_TIME).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
async def operator(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    """Logged in as an operator; the CSRF token of a console page."""
    await login(client, (await mint(client, admin, name="Olle Drift", roles=["operator"]))[1])
    return csrf_of(await client.get("/drift/aktuellt"))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"title": "", "body": "Text", "target": "alla"}, "title"),
        ({"title": "T", "body": "", "target": "alla"}, "body"),
        ({"title": "T", "body": "Text", "target": "lista", "orgs": ""}, "orgs"),
        ({"title": "T", "body": "Text", "target": "lista", "orgs": "kommun:9999"}, "orgs"),
        ({"title": "T", "body": "Text", "target": "alla", "send_at": "i morgon"}, "send_at"),
    ],
)
async def test_a_wrong_announcement_is_shown_again_with_the_fields_error(
    client: httpx.AsyncClient, operator: str, form: dict[str, str], field: str
) -> None:
    answer = await client.post(
        "/drift/aktuellt/forhandsgranska", data=form | {"csrf_token": operator}
    )
    assert answer.status_code == 422
    assert f'<a href="#{field}">' in answer.text and "<title>Fel: " in answer.text


async def test_an_announcement_is_reviewed_then_scheduled_then_stopped_on_the_pages(
    client: httpx.AsyncClient, operator: str, engine: AsyncEngine, services: Services
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "anna", grants={DYGN: "full"}, subscribed=("service.announcement",))
        await session.commit()
    form = {"title": "Driftstopp", "body": "- i kväll\n- kl. 22", "target": "kommun"}
    form |= {"types": DYGN, "send_at": LATER, "csrf_token": operator}
    review = await client.post("/drift/aktuellt/forhandsgranska", data=form)
    assert review.status_code == 200
    assert "1 användare får meddelandet: 1 med full" in review.text
    assert "<li>i kväll</li>" in review.text and "Schemalägg" in review.text
    done = await client.post("/drift/aktuellt", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("klart=schemalagt")
    listed = await client.get("/drift/aktuellt")
    stop = re.search(r'action="(/drift/aktuellt/[^/]+/stoppa)"', listed.text)
    assert stop and "Schemalagt" in listed.text
    stopped = await client.post(stop.group(1), data={"csrf_token": operator})
    assert stopped.headers["location"].endswith("klart=stoppat")
    again = await client.post(stop.group(1), data={"csrf_token": operator})
    assert again.headers["location"].endswith("klart=redan")
    trail = (await client.get("/drift/logg")).text
    assert "Meddelande skrivet" in trail and "Meddelande stoppat" in trail


@pytest.mark.parametrize(
    "path",
    [
        "/drift/fel/forsok",
        "/drift/fel/dead-letters/skicka-igen",
        "/drift/fel/dead-letters/kasta",
        "/drift/sparrade-adresser/hav",
        "/drift/mallar/digest/test",
        "/drift/aktuellt/forhandsgranska",
        "/drift/aktuellt",
    ],
)
async def test_every_console_post_needs_the_csrf_token(
    client: httpx.AsyncClient, operator: str, path: str
) -> None:
    refused = await client.post(path, data={"reason": "x", "to": "a@example.se"})
    assert refused.status_code == 403
    trail = (await client.get("/drift/logg")).text
    assert "Inget har gjorts ännu." in trail
