"""Screenshots attached to a ticket: PNG or JPEG, decoded and written anew.

The file name and the browser's content type are the sender's word and are ignored; so is
everything in the file but its pixels. Re-encoding refuses what does not decode as an
image (a JPEG header on an HTML page), and drops EXIF and other metadata: a phone's
screenshot can carry the GPS position where it was taken.

Decoding is CPU and memory (a 4096×4096 RGBA image is 64 MB while it is re-encoded):
callers on an event loop run `check` in a thread (`check_off_loop`), once per file, and
store what it gave with `attach`.
"""

import asyncio
import io
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Attachment

MAX_BYTES = 5 * 1024 * 1024
# A screen's worth: 4096×4096 (16.8 Mpx) holds a 5K screen (14.7 Mpx); a small file that
# decodes to more is a bomb, refused from its header before any pixel is decoded.
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
KINDS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}
NOT_AN_IMAGE = "Skärmbilden måste vara en bild i formatet PNG eller JPEG."
TOO_BIG = "Skärmbilden får vara högst 5 MB."
TOO_MANY_PIXELS = f"Skärmbilden får vara högst {MAX_SIDE} × {MAX_SIDE} bildpunkter."
# One image decoded at a time per process: a burst of large ones queues, memory stays flat.
_decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshots")


@dataclass(frozen=True)
class Screenshot:
    data: bytes
    content_type: str
    extension: str


def check(data: bytes) -> Screenshot | str:
    """The image re-encoded, or the Swedish reason it cannot be attached."""
    if len(data) > MAX_BYTES:
        return TOO_BIG
    try:
        return reencode(data) or NOT_AN_IMAGE
    except _TooLarge:
        return TOO_MANY_PIXELS


async def check_off_loop(data: bytes) -> Screenshot | str:
    """`check` in a worker thread, one image at a time: the event loop keeps serving."""
    return await asyncio.get_running_loop().run_in_executor(_decoder, check, data)


class _TooLarge(Exception):
    pass


def reencode(data: bytes) -> Screenshot | None:
    """The image's pixels in a new file of its own format, or None if it is no PNG/JPEG.
    Raises _TooLarge over MAX_PIXELS."""
    try:
        with warnings.catch_warnings():
            # PIL warns from 89 Mpx and raises from 179 Mpx; ours is far lower, checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(KINDS))
        with image:
            if image.width * image.height > MAX_PIXELS:
                raise _TooLarge
            if image.format not in KINDS:
                return None
            kind = image.format
            upright = ImageOps.exif_transpose(image)  # the EXIF rotation goes with EXIF
            pixels = upright.convert(_mode(upright, kind))
    except Image.DecompressionBombError:
        raise _TooLarge from None
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
    checked = check(data)
    return checked if isinstance(checked, str) else None


def add_screenshot(*, session: AsyncSession, ticket_id: str, data: bytes) -> Attachment:
    """Store an image, re-encoded, with its ticket (decodes it: prefer `check` + `attach`)."""
    checked = check(data)
    if isinstance(checked, str):
        raise ValueError(checked)
    return attach(session=session, ticket_id=ticket_id, screenshot=checked)


def attach(*, session: AsyncSession, ticket_id: str, screenshot: Screenshot) -> Attachment:
    """Store a checked, re-encoded image with its ticket; the name is ours."""
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
