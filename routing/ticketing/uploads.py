"""Screenshots attached to a ticket: PNG or JPEG, decoded and written anew.

The file name and the browser's content type are the sender's word and are ignored; so is
everything in the file but its pixels. Re-encoding refuses what does not decode as an
image (a JPEG header on an HTML page), and drops EXIF and other metadata: a phone's
screenshot can carry the GPS position where it was taken.
"""

import io
import uuid
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Attachment

MAX_BYTES = 5 * 1024 * 1024
# Screens are a few megapixels; a small file that decodes to far more is a bomb.
MAX_PIXELS = 40_000_000
KINDS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}
NOT_AN_IMAGE = "Skärmbilden måste vara en bild i formatet PNG eller JPEG."
TOO_BIG = "Skärmbilden får vara högst 5 MB."


@dataclass(frozen=True)
class Screenshot:
    data: bytes
    content_type: str
    extension: str


def reencode(data: bytes) -> Screenshot | None:
    """The image's pixels in a new file of its own format, or None if it is no PNG/JPEG."""
    try:
        with Image.open(io.BytesIO(data), formats=list(KINDS)) as image:
            if image.width * image.height > MAX_PIXELS or image.format not in KINDS:
                return None
            kind = image.format
            upright = ImageOps.exif_transpose(image)  # the EXIF rotation goes with EXIF
            pixels = upright.convert(_mode(upright, kind))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    # A new image from the pixels alone carries no info, EXIF, ICC or text chunks.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
    content_type, extension = KINDS[kind]
    return Screenshot(out.getvalue(), content_type, extension)


def _mode(image: Image.Image, kind: str) -> str:
    if kind == "JPEG":
        return "L" if image.mode == "L" else "RGB"
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return "RGBA" if has_alpha else "RGB"


def upload_error(data: bytes) -> str | None:
    """A Swedish message when `data` cannot be attached, else None."""
    if len(data) > MAX_BYTES:
        return TOO_BIG
    if reencode(data) is None:
        return NOT_AN_IMAGE
    return None


def add_screenshot(*, session: AsyncSession, ticket_id: str, data: bytes) -> Attachment:
    """Store a checked image, re-encoded, with its ticket; the name is ours."""
    screenshot = reencode(data) if len(data) <= MAX_BYTES else None
    if screenshot is None:
        raise ValueError(upload_error(data))
    attachment = Attachment(
        id=str(uuid.uuid4()),
        ticket_id=ticket_id,
        filename=f"skarmbild.{screenshot.extension}",
        content_type=screenshot.content_type,
        size=len(screenshot.data),
        data=screenshot.data,
    )
    session.add(attachment)
    return attachment
