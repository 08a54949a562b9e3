"""POST /api/v1/users/bulk (docs/contracts.md §3) on SQLite and PostgreSQL: NDJSON, one full user
a line, stored as the three PUTs would store it."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from notifier import db
from notifier.app import create_app
from notifier.compose import build_services
from notifier.settings import Settings
from subscriptions import bulk
from subscriptions.models import PermissionGrant, RecipientKey
from tests.factories import bulk_line, permissions_body, subscriptions_body, user_body

BULK = "/api/v1/users/bulk"
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*lines: dict[str, Any] | str) -> bytes:
    return "".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
    ).encode()


async def stored(client: httpx.AsyncClient, admin: dict[str, str], user_id: str) -> list[Any]:
    base = f"/api/v1/users/{user_id}"
    return [
        (await client.get(path, headers=admin)).json()
        for path in (base, f"{base}/permissions", f"{base}/subscriptions")
    ]


async def test_a_bulk_line_stores_what_the_three_puts_store(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = user_body(email="b@goteborg.se", organisation={"kind": "kommun", "code": "1480"})
    grants = permissions_body(**{"schablon-anvisade-barn": "summary"})
    subs = subscriptions_body("payment.disbursed", "application.decided", "payment.disbursed")
    subs["delivery"] = "daily"
    await client.put("/api/v1/users/by-put", json=user, headers=admin)
    await client.put("/api/v1/users/by-put/permissions", json=grants, headers=admin)
    await client.put("/api/v1/users/by-put/subscriptions", json=subs, headers=admin)

    line = {"id": "by-bulk", **user, **grants, "subscriptions": subs}
    answer = await client.post(BULK, content=ndjson(line), headers=admin | NDJSON)

    assert answer.status_code == 200
    assert answer.json() == {"created": 1, "updated": 0, "refused": [], "refused_total": 0}
    by_put, by_bulk = await stored(client, admin, "by-put"), await stored(client, admin, "by-bulk")
    assert by_bulk[0] == by_put[0] | {"id": "by-bulk"}
    assert by_bulk[1:] == by_put[1:]
    assert by_bulk[2]["delivery"] == "daily"


async def test_a_second_load_replaces_and_counts_updates(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = ndjson(*(bulk_line(f"u-{n}") for n in range(3)))
    await client.post(BULK, content=first, headers=admin | NDJSON)
    again = bulk_line(
        "u-1",
        name="Ny Namn",
        grants={"dygnsschablon-ensamkommande": "summary"},
        subscriptions={"enabled": False, "event_types": ["application.decided"]},
    )
    answer = await client.post(
        BULK, content=ndjson(again, bulk_line("u-9")), headers=admin | NDJSON
    )

    assert answer.json() | {"refused": None} == {
        "created": 1,
        "updated": 1,
        "refused": None,
        "refused_total": 0,
    }
    user, permissions, subscriptions = await stored(client, admin, "u-1")
    assert user["name"] == "Ny Namn"
    assert permissions == {"grants": {"dygnsschablon-ensamkommande": "summary"}}
    assert (subscriptions["enabled"], subscriptions["event_types"]) == (
        False,
        ["application.decided"],
    )
    assert subscriptions["delivery"] == "immediate"  # the default, as for the PUT


async def test_bad_lines_are_refused_by_number_and_the_rest_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = ndjson(
        bulk_line("ok-1"),
        "{not json",
        bulk_line("bad-org", organisation={"kind": "kommun", "code": "0999"}),
        "",
        bulk_line("bad-grant", grants={"ingen-sådan-typ": "full"}),
        bulk_line("bad-level", grants={"schablon-anvisade-barn": "allt"}),
        bulk_line("bad-event", subscriptions={"enabled": True, "event_types": ["x.y"]}),
        bulk_line(
            "bad-delivery", subscriptions={"enabled": True, "event_types": [], "delivery": "weekly"}
        ),
        {"id": "no-email", "name": "X"},
        bulk_line("ok-2"),
    )
    answer = (await client.post(BULK, content=body, headers=admin | NDJSON)).json()

    assert (answer["created"], answer["updated"], answer["refused_total"]) == (2, 0, 7)
    refused = {item["line"]: item["reason"] for item in answer["refused"]}
    assert sorted(refused) == [2, 3, 5, 6, 7, 8, 9]
    assert "Invalid JSON" in refused[2]
    assert refused[3].startswith("organisation")
    assert "okänd ersättningstyp: ingen-sådan-typ" in refused[5]
    assert refused[6].startswith("grants.schablon-anvisade-barn")
    assert "okänd händelsetyp: x.y" in refused[7]
    assert refused[8].startswith("subscriptions.delivery")
    assert "email: Field required" in refused[9]
    for user_id in ("ok-1", "ok-2"):
        assert (await client.get(f"/api/v1/users/{user_id}", headers=admin)).status_code == 200
    for user_id in ("bad-org", "bad-grant", "bad-level", "bad-event", "no-email"):
        assert (await client.get(f"/api/v1/users/{user_id}", headers=admin)).status_code == 404


async def test_a_refusal_never_echoes_the_line(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    line = bulk_line("p", email="inte-en-adress-19121212-1212")
    answer = await client.post(BULK, content=ndjson(line), headers=admin | NDJSON)
    assert "19121212" not in answer.text


async def test_the_same_user_twice_ends_as_the_last_line_says(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = ndjson(bulk_line("twice", name="Först"), bulk_line("twice", name="Sist"))
    answer = (await client.post(BULK, content=body, headers=admin | NDJSON)).json()
    assert (answer["created"], answer["updated"]) == (1, 1)
    user = (await client.get("/api/v1/users/twice", headers=admin)).json()
    assert user["name"] == "Sist"


async def test_a_stream_longer_than_a_batch_is_stored_in_full(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH_SIZE", 7)

    async def chunks() -> AsyncIterator[bytes]:
        # Odd-sized chunks, so lines are split across them as on a real connection.
        body = ndjson(*(bulk_line(f"s-{n}") for n in range(50)))
        for start in range(0, len(body), 97):
            yield body[start : start + 97]

    answer = (await client.post(BULK, content=chunks(), headers=admin | NDJSON)).json()
    assert (answer["created"], answer["refused_total"]) == (50, 0)
    assert (await client.get("/api/v1/users/s-49/subscriptions", headers=admin)).json()[
        "event_types"
    ] == ["payment.disbursed"]


async def test_a_load_larger_than_any_other_request_is_stored_in_full(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Other requests stop at 1 MiB (notifier.web.hardening); a load of many thousand users
    # is larger, and is read as a stream.
    body = ndjson(*(bulk_line(f"big-{n}", name="N" * 200) for n in range(6000)))
    assert len(body) > 2 * 1024 * 1024
    answer = (await client.post(BULK, content=body, headers=admin | NDJSON)).json()
    assert (answer["created"], answer["refused_total"]) == (6000, 0)


async def test_bulk_needs_the_admin_token_and_ndjson(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = ndjson(bulk_line("x"))
    assert (await client.post(BULK, content=body, headers=NDJSON)).status_code == 401
    wrong_type = admin | {"Content-Type": "application/json"}
    assert (await client.post(BULK, content=body, headers=wrong_type)).status_code == 415
    assert (await client.get("/api/v1/users/x", headers=admin)).status_code == 404


async def test_an_overlong_line_is_refused_without_being_gathered(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_LINE_BYTES", 300)
    long_line = bulk_line("long", name="x" * 400)

    async def chunks() -> AsyncIterator[bytes]:
        body = ndjson(bulk_line("before"), long_line, bulk_line("after"))
        for start in range(0, len(body), 50):
            yield body[start : start + 50]

    answer = (await client.post(BULK, content=chunks(), headers=admin | NDJSON)).json()
    assert answer["created"] == 2
    assert answer["refused"] == [{"line": 2, "reason": "raden är längre än 300 byte"}]


async def test_a_last_line_without_newline_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = ndjson(bulk_line("a")) + json.dumps(bulk_line("b")).encode()
    answer = (await client.post(BULK, content=body, headers=admin | NDJSON)).json()
    assert answer["created"] == 2


async def test_a_reconcile_restores_what_was_changed_here_and_keeps_the_rest(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    lines = [bulk_line("same"), bulk_line("off-here"), bulk_line("new-grant")]
    await client.post(BULK, content=ndjson(*lines), headers=admin | NDJSON)
    # Turned off here since the last load (as a one-click unsubscribe would).
    off = subscriptions_body(enabled=False)
    await client.put("/api/v1/users/off-here/subscriptions", json=off, headers=admin)
    lines[2] = bulk_line("new-grant", grants={"schablon-anvisade-barn": "summary"})

    answer = (await client.post(BULK, content=ndjson(*lines), headers=admin | NDJSON)).json()

    assert (answer["created"], answer["updated"]) == (0, 3)
    for user_id in ("same", "off-here"):
        subscriptions = await client.get(f"/api/v1/users/{user_id}/subscriptions", headers=admin)
        assert subscriptions.json()["enabled"] is True
    grants = (await client.get("/api/v1/users/new-grant/permissions", headers=admin)).json()
    assert grants == {"grants": {"schablon-anvisade-barn": "summary"}}
    same = (await client.get("/api/v1/users/same/permissions", headers=admin)).json()
    assert same == permissions_body()


async def test_the_docs_show_a_line_that_loads(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"][BULK]["post"]["requestBody"]["content"]["application/x-ndjson"]
    answer = await client.post(BULK, content=body["example"], headers=admin | NDJSON)
    assert answer.json()["created"] == 1


@pytest.mark.parametrize("bad", ["\x00", "\r", "\n", "\x1b", "\u2028"])
async def test_an_id_with_a_control_character_is_a_refused_line_not_a_lost_batch(
    client: httpx.AsyncClient, admin: dict[str, str], bad: str
) -> None:
    """The id gets the text rule: with NUL PostgreSQL failed the whole batch (500), and
    with CR/LF/ESC the user was stored where no URL could reach it."""
    body = ndjson(bulk_line("good-1"), bulk_line(f"evil{bad}id"), bulk_line("good-2"))
    answer = await client.post(BULK, content=body, headers=admin | NDJSON)
    assert answer.status_code == 200
    result = answer.json()
    assert (result["created"], result["refused_total"]) == (2, 1)
    assert result["refused"][0]["line"] == 2
    assert result["refused"][0]["reason"].startswith("id: ")
    for user_id in ("good-1", "good-2"):
        assert (await client.get(f"/api/v1/users/{user_id}", headers=admin)).status_code == 200


async def test_the_bulk_url_is_no_user(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """GET, PUT and DELETE of /users/bulk reached the single-user routes as user "bulk"."""
    for method, body in (("GET", None), ("PUT", user_body()), ("DELETE", None)):
        answer = await client.request(method, BULK, json=body, headers=admin)
        assert answer.status_code == 405, method
        assert answer.headers["allow"] == "POST, OPTIONS"
    for sub in ("permissions", "subscriptions"):
        assert (await client.get(f"{BULK}/{sub}", headers=admin)).status_code == 404
    line = await client.post(BULK, content=ndjson(bulk_line("bulk")), headers=admin | NDJSON)
    assert line.json()["refused_total"] == 1
    assert (await client.get(BULK, headers=admin)).status_code == 405


async def test_two_loads_of_the_same_new_users_at_once_both_succeed(
    engine: AsyncEngine, settings: Settings, admin: dict[str, str]
) -> None:
    """Two loads racing over the same new users (one in reverse order), each on its own
    connection: both answer 200 and each user ends whole, as one of them sent it. The
    later one used to insert grants the earlier had just committed: a 500
    (UniqueViolation on permission_grants_pkey; on SQLite, IntegrityError)."""
    users = 1500  # two batches each
    ids = [f"race-{n}" for n in range(users)]
    one = ndjson(*(bulk_line(i, grants={"schablon-anvisade-barn": "full"}) for i in ids))
    other = ndjson(*(bulk_line(i, grants={"schablon-anvisade-barn": "summary"}) for i in ids[::-1]))
    app = create_app(build_services(settings, engine))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        answers = await asyncio.gather(
            *(client.post(BULK, content=body, headers=admin | NDJSON) for body in (one, other))
        )
        assert [answer.status_code for answer in answers] == [200, 200], answers[0].text
        results = [answer.json() for answer in answers]
        assert sum(result["created"] for result in results) == users
        assert sum(result["updated"] for result in results) == users
        for user_id in (ids[0], ids[users // 2], ids[-1]):
            grants = await client.get(f"/api/v1/users/{user_id}/permissions", headers=admin)
            assert grants.json()["grants"]["schablon-anvisade-barn"] in {"full", "summary"}
    async with db.sessionmaker(engine)() as session:
        per_user = await session.exec(
            select(PermissionGrant.user_id, func.count()).group_by(PermissionGrant.user_id)
        )
        assert sorted(count for _, count in per_user) == [1] * users
        keys = await session.exec(select(func.count(func.distinct(RecipientKey.user_id))))
        assert keys.one() == users  # the lookup rows follow what is stored
