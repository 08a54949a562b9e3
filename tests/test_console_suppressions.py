"""Suppressed addresses in the operators' console: a real bounce listed on the page and
counted on the overview, lifted with the page's button (the next email goes, the audit
trail says who), and the API open to operators as well as the admin token."""

from datetime import UTC, timedelta

import httpx
from sqlmodel import select

from domain.sqltypes import utcnow
from domain.swedish import SWEDISH_TIME
from notifier.compose import Services
from notifier.workers.sender import Sender
from subscriptions.suppressions import Lifted, Suppression
from tests.smtp_server import Mailbox
from tests.test_bounces import (  # noqa: F401  (fixtures: the relay, `notifier inbound`)
    ADDRESS,
    USER,
    add,
    bounce,
    event,
    inbound,
    outcomes_exchange,
    rows,
    send_all,
    sender,
    settings,
)
from tests.test_suppressions import OLD, suppress
from tests.test_triage import login, mint
from tests.test_web_form import csrf_of

PAGE = "/drift/sparrade-adresser"


async def as_operator(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    """Logged in on the pages too; the Bearer header of the operator."""
    _, me = await mint(client, admin, name="Olle Drift", roles=["operator"])
    await login(client, me)
    return me


async def overview_count(client: httpx.AsyncClient, admin: dict[str, str]) -> int:
    figures = (await client.get("/api/v1/operations/overview", headers=admin)).json()
    return int(figures["suppressed"])


async def test_a_bounced_address_is_listed_and_lifted_on_the_page_and_mailed_again(
    services: Services,
    sender: Sender,  # noqa: F811
    smtp: tuple[int, Mailbox],
    inbound: int,  # noqa: F811
    client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    await add(services)
    await event(services)
    await send_all(sender)
    await bounce(inbound, smtp[1].mail_from[0])
    await as_operator(client, admin)
    async with services.sessions() as session:
        [row] = (await session.exec(select(Suppression))).all()
    since = row.since if row.since.tzinfo else row.since.replace(tzinfo=UTC)  # SQLite
    assert (await overview_count(client, admin)) == 1
    assert 'id="suppressed">1<' in (await client.get("/drift")).text

    page = await client.get(PAGE)
    assert page.status_code == 200 and f'href="{PAGE}" aria-current="page"' in page.text
    listed = page.text.split('<table id="suppressions">')[1]
    assert f'<th scope="row">{ADDRESS}</th>' in listed and USER in listed
    assert "Studsade (permanent fel)" in listed and "<td>5.1.1</td>" in listed
    assert "[adress]" in listed  # the receiving server's words, the address masked
    assert f"{since.astimezone(SWEDISH_TIME):%Y-%m-%d %H.%M}" in listed
    assert ADDRESS in (await client.get(PAGE, params={"adress": "U-BOUNCE@"})).text
    other = await client.get(PAGE, params={"adress": "annan"})
    assert ADDRESS not in other.text and "Ingen spärrad adress innehåller" in other.text

    form = {"email": ADDRESS, "csrf_token": csrf_of(page)}
    lifted = await client.post(f"{PAGE}/hav", data=form)
    assert lifted.status_code == 303 and lifted.headers["location"] == f"{PAGE}?klart=havd"
    assert ADDRESS not in lifted.headers["location"]
    done = await client.get(lifted.headers["location"])
    assert "Spärren är hävd." in done.text and "Inga adresser är spärrade." in done.text
    again = await client.post(f"{PAGE}/hav", data=form)
    assert again.headers["location"] == f"{PAGE}?klart=saknas"
    assert (await overview_count(client, admin)) == 0

    await event(services)
    await send_all(sender)
    assert [r.status for r in await rows(services)] == ["bounced", "sent"]
    async with services.sessions() as session:
        [row] = (await session.exec(select(Suppression))).all()
    assert row.lifted_by == Lifted.OPERATOR
    trail = (await client.get("/api/v1/operations/audit", headers=admin)).json()
    assert [(e["actor"], e["action"], e["target"]) for e in trail] == [
        ("staff:Olle Drift", "suppressions.lift", str(row.id))
    ]
    assert "Spärr av adress hävd" in (await client.get("/drift/logg")).text


async def test_operators_use_the_suppressions_api_and_their_lifts_are_audited(
    services: Services, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await suppress(services)
    await suppress(services, "annan@kommun.example.se", since=utcnow() - timedelta(days=1))
    _, desk_staff = await mint(client, admin)
    _, me = await mint(client, admin, name="Olle Drift", roles=["operator"])
    url = f"/api/v1/suppressions/{OLD.upper()}"
    for method, path in (("GET", "/api/v1/suppressions"), ("DELETE", url)):
        assert (await client.request(method, path)).status_code == 401
        refused = await client.request(method, path, headers=desk_staff)
        assert refused.status_code == 403 and "operator" in refused.json()["detail"]
    listed = (await client.get("/api/v1/suppressions", headers=me)).json()["suppressions"]
    assert [s["email"] for s in listed] == ["annan@kommun.example.se", OLD]
    assert (await client.delete(url, headers=me)).status_code == 204
    assert (await client.delete(url, headers=me)).status_code == 404
    other = "/api/v1/suppressions/annan@kommun.example.se"
    assert (await client.delete(other, headers=admin)).status_code == 204
    trail = (await client.get("/api/v1/operations/audit", headers=me)).json()
    assert [(e["actor"], e["action"]) for e in trail] == [
        ("admin", "suppressions.lift"),
        ("staff:Olle Drift", "suppressions.lift"),
    ]
    assert all("@" not in e["target"] for e in trail)
    assert (await client.get("/api/v1/suppressions", headers=admin)).json() == {"suppressions": []}


async def test_the_suppressions_page_needs_an_operator_and_its_lift_the_csrf_token(
    services: Services, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await suppress(services)
    anonymous = await client.get(PAGE)
    assert anonymous.status_code == 401 and 'name="next"' in anonymous.text
    assert (await client.post(f"{PAGE}/hav", data={"email": OLD})).status_code == 401
    _, desk_staff = await mint(client, admin)
    await login(client, desk_staff)
    assert (await client.get(PAGE)).status_code == 403
    csrf = csrf_of(await client.get("/triage"))
    refused = await client.post(f"{PAGE}/hav", data={"email": OLD, "csrf_token": csrf})
    assert refused.status_code == 403
    await as_operator(client, admin)
    assert (await client.post(f"{PAGE}/hav", data={"email": OLD})).status_code == 403
    assert OLD in (await client.get(PAGE)).text  # still suppressed
    assert "Inget har gjorts ännu." in (await client.get("/drift/logg")).text
