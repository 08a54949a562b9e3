"""Every email the service sends, previewed from the console with sample data, and sent
once as a test through the real outbox and SMTP relay, marked, never to a user."""

from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from notifier.compose import Services, build_sender
from notifier.console.previews import TEMPLATES, TEXT_ONLY
from notifier.settings import Settings
from tests.pipeline_helpers import DYGN, add_user, outbox
from tests.smtp_server import Mailbox
from tests.test_triage import login, mint
from tests.test_web_form import csrf_of

LEVELS = ["full", "summary"]


@pytest.fixture
def settings(var_dir: Path, smtp: tuple[int, Mailbox]) -> Settings:
    return Settings(
        database_url="sqlite:///unused",
        admin_token="test-admin-token",
        mail_dir=var_dir / "mail",
        secret_key="test-secret-key-of-at-least-32-bytes",
        smtp_url=f"smtp://127.0.0.1:{smtp[0]}",
        test_send_rate_limit="3 per hour",
    )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("level", LEVELS)
async def test_every_template_is_previewed_with_sample_data(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, level: str
) -> None:
    answer = await client.get(f"/api/v1/templates/{name}/preview?level={level}", headers=admin)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["subject"] and shown["text"].strip()
    assert (shown["html"] is None) == (name in TEXT_ONLY)
    if shown["html"] is not None:
        assert shown["html"].startswith("<!doctype html>") or "<html" in shown["html"]
    if level == "summary" and name not in TEXT_ONLY:
        # The sample case concerns Ali Hassan: a summary grant never names the person.
        assert "Ali Hassan" not in shown["text"] + shown["html"] + shown["subject"]


async def test_the_template_list_names_every_email(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    listed = (await client.get("/api/v1/templates", headers=admin)).json()
    names = {t["name"] for t in listed}
    assert {"payment.disbursed", "digest", "ticket.receipt", "ticket.answer"} <= names
    assert "ticket.forward" in names and "service.announcement" in names
    unknown = await client.get("/api/v1/templates/nope/preview", headers=admin)
    assert unknown.status_code == 404


def received(mailbox: Mailbox) -> list[Message]:
    return [message_from_bytes(raw) for raw in mailbox.raw]


async def test_a_test_send_goes_through_the_outbox_and_relay_marked_as_a_test(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    services: Services,
    engine: AsyncEngine,
    smtp: tuple[int, Mailbox],
) -> None:
    sent = await client.post(
        "/api/v1/templates/payment.disbursed/test",
        json={"to": "drift@example.se", "level": "summary"},
        headers=admin,
    )
    assert sent.status_code == 202, sent.text
    [row] = await outbox(engine)
    assert (row.kind, row.recipient, row.user_id) == ("test", "drift@example.se", None)
    await build_sender(services).send_batch()
    [mail] = received(smtp[1])
    assert mail["Subject"].startswith("[TEST] ") and mail["X-Notifier-Test"] == (
        "payment.disbursed; summary"
    )
    assert "List-Unsubscribe" not in mail
    trail = (await client.get("/api/v1/operations/audit", headers=admin)).json()
    assert [(e["action"], e["target"]) for e in trail] == [("templates.test", "payment.disbursed")]


async def test_a_test_never_goes_to_a_user_and_is_rate_limited(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "anna", grants={DYGN: "full"})
        await session.commit()
    to_user = await client.post(
        "/api/v1/templates/digest/test", json={"to": "ANNA@kommun.example.se"}, headers=admin
    )
    assert to_user.status_code == 422 and to_user.json()["detail"][0]["loc"] == ["body", "to"]
    # The refusal counted too: the test cannot be used to probe for users' addresses.
    test = {"to": "t@example.se"}
    answers = [
        await client.post("/api/v1/templates/digest/test", json=test, headers=admin)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert len(await outbox(engine)) == 2


async def test_the_preview_page_frames_the_html_sandboxed_at_two_widths(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await login(client, (await mint(client, admin, roles=["operator"]))[1])
    page = await client.get("/drift/mallar/payment.disbursed?niva=summary")
    assert page.status_code == 200
    assert page.text.count('sandbox=""') == 2 and 'width="375"' in page.text
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    frame = await client.get("/drift/mallar/payment.disbursed/html?niva=summary")
    policy = frame.headers["content-security-policy"]
    assert "sandbox" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Ali Hassan" not in frame.text
    sent = await client.post(
        "/drift/mallar/digest/test?niva=full",
        data={"csrf_token": csrf_of(page), "to": "drift@example.se"},
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("skickat=1")
    refused = await client.post(
        "/drift/mallar/digest/test", data={"csrf_token": csrf_of(page), "to": "inte en adress"}
    )
    assert refused.status_code == 422 and "namn@exempel.se" in refused.text
