"""Screenshots attached to a ticket: PNG or JPEG, told apart by their first bytes.

The file name and the browser's content type are the sender's word and are ignored.
"""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Attachment

MAX_BYTES = 5 * 1024 * 1024
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) for a PNG or JPEG, else None."""
    for magic, kind in SIGNATURES.items():
        if data.startswith(magic):
            return kind
    return None


def upload_error(data: bytes) -> str | None:
    """A Swedish message when `data` cannot be attached, else None."""
    if len(data) > MAX_BYTES:
        return "Skärmbilden får vara högst 5 MB."
    if sniff(data) is None:
        return "Skärmbilden måste vara en bild i formatet PNG eller JPEG."
    return None


def add_screenshot(*, session: AsyncSession, ticket_id: str, data: bytes) -> Attachment:
    """Store a checked image with its ticket; the name is ours, not the sender's."""
    kind = sniff(data)
    if kind is None or len(data) > MAX_BYTES:
        raise ValueError(upload_error(data))
    content_type, extension = kind
    attachment = Attachment(
        id=str(uuid.uuid4()),
        ticket_id=ticket_id,
        filename=f"skarmbild.{extension}",
        content_type=content_type,
        size=len(data),
        data=data,
    )
    session.add(attachment)
    return attachment
