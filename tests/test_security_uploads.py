"""Uploads (issue 10): the size limit holds for a chunked body (#8)."""

from collections.abc import AsyncIterator

import httpx

from notifier.web.app import Services
from routing.ticketing.models import Ticket
from routing.web.support import MAX_BODY
from tests.test_support_api import count
from tests.test_web_form import DETAILS, SEA, csrf_of

CHUNK = 64 * 1024


class Chunked:
    """A multipart body of `total` bytes sent without Content-Length, counting what was
    pulled from it."""

    def __init__(self, fields: dict[str, str], total: int) -> None:
        self.head = b"".join(
            b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (name.encode(), value.encode())
            for name, value in fields.items()
        ) + (
            b'--b\r\nContent-Disposition: form-data; name="screenshot"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
        )
        self.total, self.sent = total, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.sent = len(self.head)
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"\x00" * CHUNK
        yield b"\r\n--b--\r\n"


async def test_a_chunked_upload_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/support", params=SEA)
    body = Chunked(SEA | DETAILS | {"csrf_token": csrf_of(page)}, total=60 * 1024 * 1024)
    response = await client.post(
        "/support/arende",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert "för stor" in response.json()["detail"]
    assert body.sent < MAX_BODY + 2 * CHUNK
    assert await count(services, Ticket) == 0


async def test_a_chunked_json_body_over_a_megabyte_is_refused(client: httpx.AsyncClient) -> None:
    async def big() -> AsyncIterator[bytes]:
        yield b'{"issue_type": "login", "message": "'
        for _ in range(40):
            yield b"x" * CHUNK
        yield b'"}'

    response = await client.post(
        "/api/v1/support/route", content=big(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
