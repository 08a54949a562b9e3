"""Uploads (issue 10): the size limit holds for a chunked body (#8); screenshots are
re-encoded, without metadata, and what is no image is refused (#12)."""

import io
import struct
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from notifier.compose import Services
from routing.ticketing.models import Attachment, Ticket
from routing.web.support_ticket import MAX_BODY
from tests.test_support_api import count
from tests.test_web_form import DETAILS, LOGIN_STEP1, SEA, csrf_of, submit_ticket

CHUNK = 64 * 1024
GPS_IFD = 0x8825
ORANGE = (255, 128, 0)


def image_bytes(kind: str = "PNG", *, gps: bool = False, comment: str = "") -> bytes:
    """A small real image; with `gps`, EXIF naming where it was taken."""
    image = Image.new("RGB", (16, 12), ORANGE)
    options: dict[str, object] = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (59.0, 19.0, 45.0), 3: "E", 4: (18.0, 4.0, 6.0)})
        options["exif"] = exif.tobytes()
    if comment and kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", comment)
        options["pnginfo"] = info
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


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


async def stored_attachment(services: Services) -> Attachment:
    async with services.sessions() as session:
        [stored] = (await session.exec(select(Attachment))).all()
    return stored


async def test_a_jpeg_is_stored_without_its_exif_gps_position(
    client: httpx.AsyncClient, services: Services
) -> None:
    sent = image_bytes("JPEG", gps=True)
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD)  # the test's own premise
    files = {"screenshot": ("IMG_0001.jpg", sent, "image/jpeg")}
    assert (await submit_ticket(client, LOGIN_STEP1, files=files)).status_code == 303
    stored = await stored_attachment(services)
    image = Image.open(io.BytesIO(stored.data))
    assert (image.format, stored.content_type) == ("JPEG", "image/jpeg")
    assert not image.getexif() and b"Exif" not in stored.data and b"PhoneMaker" not in stored.data
    assert image.size == (16, 12)
    assert all(abs(a - b) < 8 for a, b in zip(image.getpixel((8, 6)), ORANGE, strict=True))


async def test_a_png_is_stored_without_its_text_chunks(
    client: httpx.AsyncClient, services: Services
) -> None:
    files = {"screenshot": ("a.png", image_bytes("PNG", comment="Anna Berg, Storgatan 1"), "")}
    assert (await submit_ticket(client, LOGIN_STEP1, files=files)).status_code == 303
    stored = await stored_attachment(services)
    assert b"Storgatan" not in stored.data and b"tEXt" not in stored.data
    assert Image.open(io.BytesIO(stored.data)).getpixel((0, 0)) == ORANGE


HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0" + HTML,  # JPEG magic, then a page
        b"\x89PNG\r\n\x1a\n" + HTML,
        image_bytes("JPEG")[:200],  # truncated
        image_bytes("GIF"),
    ],
)
async def test_what_does_not_decode_as_png_or_jpeg_is_refused(
    client: httpx.AsyncClient, services: Services, content: bytes
) -> None:
    files = {"screenshot": ("a.jpg", content, "image/jpeg")}
    page = await submit_ticket(client, LOGIN_STEP1, files=files)
    assert page.status_code == 422 and "PNG eller JPEG" in page.text
    assert await count(services, Ticket) == 0


async def test_a_page_appended_to_a_real_jpeg_is_not_stored(
    client: httpx.AsyncClient, services: Services
) -> None:
    files = {"screenshot": ("a.jpg", image_bytes("JPEG") + HTML, "image/jpeg")}
    assert (await submit_ticket(client, LOGIN_STEP1, files=files)).status_code == 303
    assert b"<script" not in (await stored_attachment(services)).data


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`×`height`: what a decompression bomb shows before
    its pixels (a deflated stream of zeros is ~1000:1, so its few MB need not be sent)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * min(width, 4096)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "size",
    [(4097, 4096), (8000, 6000), (20_000, 20_000)],  # over ours; over PIL's warning, its error
)
async def test_an_image_over_a_screens_worth_of_pixels_is_refused_clearly(
    client: httpx.AsyncClient, services: Services, size: tuple[int, int]
) -> None:
    files = {"screenshot": ("a.png", png_claiming(*size), "image/png")}
    page = await submit_ticket(client, LOGIN_STEP1, files=files)
    assert page.status_code == 422 and "4096 × 4096 bildpunkter" in page.text
    assert await count(services, Ticket) == 0
