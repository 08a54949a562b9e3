"""Canned answers: seeded from the support page, managed by the admin, listed for staff,
and picked on the desk to start an answer that staff edit before sending."""

import re

import httpx
import pytest

from tests.test_desk_search import api_ticket
from tests.test_triage import login, mint
from tests.test_web_form import csrf_of

# What the seed support page says, and the canned answer that must say it too.
SEED_FACTS = {
    "behorighet-ser-inte-personen": ["diarienummer, belopp", "administratör i kommunen"],
    "webblasare": ["Internet Explorer", "Microsoft inte längre uppgraderar"],
    "inloggning-tva-steg": ["E-tjänstelegitimation – SITHS", "Ineras egen meny"],
    "inloggning-steg-1": ["etjanstkommuner@", "halsoundersokningar-melker@", "skärmbild"],
    "inloggning-steg-2-siths": ["interna IT-supportenhet", "Ineras egen support"],
    "net-id-upphorde": ["31 januari 2024", "Net iD"],
    "informationstraffar": ["digitala informationsträffar", "användarmanualen"],
    "mejlnotifieringar": ["fliken Notifieringar", "behörighet"],
    "fyraveckorsperiod": ["MIGRF 2020:13"],
    "diarienummer-och-handlaggare": ["010-203 33 94", "010-485 55 84", "09.00–12.00"],
}


async def test_staff_list_the_seeded_answers_drawn_from_the_support_page(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    staff = (await mint(client, admin))[1]
    listed = await client.get("/api/v1/triage/answers", headers=staff)
    assert listed.status_code == 200
    by_id = {a["id"]: a["text"] for a in listed.json()}
    assert len(by_id) >= 8
    for answer_id, facts in SEED_FACTS.items():
        for fact in facts:
            assert fact in by_id[answer_id], (answer_id, fact)


async def test_only_staff_list_answers_and_only_the_admin_manages_them(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    staff = (await mint(client, admin))[1]
    assert (await client.get("/api/v1/triage/answers")).status_code == 401
    assert (await client.get("/api/v1/triage/answers", headers=admin)).status_code == 403
    body = {"title": "Test", "text": "Text."}
    assert (await client.put("/api/v1/answers/test", json=body, headers=staff)).status_code == 401
    assert (await client.get("/api/v1/answers")).status_code == 401


async def test_the_admin_creates_replaces_and_deletes_an_answer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    url = "/api/v1/answers/ny-mall"
    created = await client.put(url, json={"title": "Ny", "text": "Första."}, headers=admin)
    assert created.status_code == 201
    replaced = await client.put(url, json={"title": "Ny", "text": "Andra."}, headers=admin)
    assert (replaced.status_code, replaced.json()["text"]) == (200, "Andra.")
    assert (await client.get(url, headers=admin)).json()["text"] == "Andra."
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404
    assert (await client.delete(url, headers=admin)).status_code == 404


@pytest.mark.parametrize("answer_id", ["Stora", "med mellanslag", "-borjar-med-streck"])
async def test_an_answer_id_is_a_slug(
    client: httpx.AsyncClient, admin: dict[str, str], answer_id: str
) -> None:
    body = {"title": "T", "text": "T."}
    put = await client.put(f"/api/v1/answers/{answer_id}", json=body, headers=admin)
    assert put.status_code == 422


async def test_a_picked_answer_fills_the_answer_field_and_is_sent_as_edited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket = await api_ticket(client)
    staff = (await mint(client, admin))[1]
    assert (await login(client, staff)).status_code == 303
    url = f"/triage/arenden/{ticket['id']}"
    claim = await client.post(f"{url}/claim", data={"csrf_token": csrf_of(await client.get(url))})
    assert claim.status_code == 303
    page = await client.get(url, params={"svar": "webblasare"})
    field = re.search(r'<textarea[^>]*name="answer_text"[^>]*>([^<]*)</textarea>', page.text)
    assert field and "Internet Explorer" in field.group(1)
    assert '<option value="webblasare" selected>' in page.text
    edited = field.group(1).replace("&#34;", '"') + "\nHör av dig om det inte hjälper."
    sent = await client.post(
        f"{url}/answer", data={"csrf_token": csrf_of(page), "answer_text": edited}
    )
    assert sent.status_code == 303
    detail = await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)
    assert detail.json()["events"][-1]["reason"].endswith("Hör av dig om det inte hjälper.")


async def test_an_unknown_answer_leaves_the_field_empty(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket = await api_ticket(client)
    assert (await login(client, (await mint(client, admin))[1])).status_code == 303
    page = await client.get(f"/triage/arenden/{ticket['id']}", params={"svar": "finns-inte"})
    assert page.status_code == 200
    assert re.search(r'name="answer_text"[^>]*></textarea>', page.text)
