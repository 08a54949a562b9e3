"""`POST /api/v1/users/bulk` (docs/contracts.md §3): the e-service loads and reconciles all its
users in one streamed request, one full user per NDJSON line.

Each line replaces what is stored for that user exactly as the three PUTs would, and is
validated by their own models, so the two ways cannot disagree. The body is read as a
stream and 1,000 users are written per transaction (subscriptions.bulk_store: a handful
of statements a batch), each batch while the next is parsed, so memory stays flat however
long the stream. Through the PUTs the admin API took about 177 users/s with 8 clients
(issue 14); bench.bulk_users measures this way.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from domain.web import SessionDep, gated, refusals
from subscriptions.bulk_store import BulkUser, write_batch
from subscriptions.schemas import PermissionsIn, SubscriptionsIn, UserIdText, UserIn

MEDIA_TYPE = "application/x-ndjson"
BATCH_SIZE = 1000  # users per transaction
MAX_LINE_BYTES = 64 * 1024  # a user is well under 4 KiB; a longer line is refused unread
MAX_REFUSALS_LISTED = 1000  # past this only counted, so the answer stays small
EXAMPLE_LINE = (
    '{"id": "u-1", "email": "anna.berg@stockholm.se", "name": "Anna Berg", '
    '"organisation": {"kind": "kommun", "code": "0180"}, '
    '"grants": {"dygnsschablon-ensamkommande": "full"}, '
    '"subscriptions": {"enabled": true, "event_types": ["payment.disbursed"], '
    '"delivery": "immediate"}}\n'
)


class Line(UserIn):
    """One NDJSON line: the three PUTs' bodies side by side, under the user's id."""

    id: UserIdText
    grants: dict[str, Any]  # checked by PermissionsIn, the PUT's own model
    subscriptions: SubscriptionsIn


class Refusal(BaseModel):
    line: int
    reason: str


class BulkResult(BaseModel):
    created: int = 0
    updated: int = 0
    refused: list[Refusal] = []
    """The first 1,000 refused lines, with the reason of each."""
    refused_total: int = 0


def parse(line: bytes) -> BulkUser:
    """A line as a user to store; ValidationError says why it cannot be."""
    parsed = Line.model_validate_json(line)
    permissions = PermissionsIn.model_validate({"grants": parsed.grants})
    subscriptions = parsed.subscriptions
    return BulkUser(
        id=parsed.id,
        email=str(parsed.email),
        name=parsed.name,
        org_kind=parsed.organisation.kind.value,
        org_code=parsed.organisation.code,
        grants={ctype: level.value for ctype, level in permissions.grants.items()},
        # Once each, in order, as put_subscriptions stores them.
        event_types=tuple(dict.fromkeys(subscriptions.event_types)),
        enabled=subscriptions.enabled,
        delivery=subscriptions.delivery.value,
    )


def reason(error: ValidationError) -> str:
    """Where and what, never the value itself (a line may hold personal data)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'grants'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)
    )


async def lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes | None]]:
    """(line number, line) for each line of the stream; None for an overlong line, whose
    bytes are dropped as they arrive instead of being gathered."""
    buffer = bytearray()
    number, overlong = 0, False
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            number += 1
            piece = chunk[start:end]
            too_long = overlong or len(buffer) + len(piece) > MAX_LINE_BYTES
            yield number, None if too_long else bytes(buffer + piece)
            buffer.clear()
            overlong, start = False, end + 1
        rest = chunk[start:]
        overlong = overlong or len(buffer) + len(rest) > MAX_LINE_BYTES
        if overlong:
            buffer.clear()
        else:
            buffer += rest
    if buffer or overlong:
        yield number + 1, None if overlong else bytes(buffer)


class Load:
    """One bulk request: validates each line and writes a batch at a time, each batch its
    own transaction. A batch is written while the next is parsed (the database works in
    its own process meanwhile); at most two batches are held."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.result = BulkResult()
        self.batch: dict[str, BulkUser] = {}
        self.writing: asyncio.Task[None] | None = None

    def refuse(self, number: int, why: str) -> None:
        self.result.refused_total += 1
        if len(self.result.refused) < MAX_REFUSALS_LISTED:
            self.result.refused.append(Refusal(line=number, reason=why))

    async def add(self, number: int, line: bytes | None) -> None:
        if line is None:
            self.refuse(number, f"raden är längre än {MAX_LINE_BYTES} byte")
            return
        if not line.strip():
            return  # blank lines, such as a final newline, are no users
        try:
            user = parse(line)
        except ValidationError as error:
            self.refuse(number, reason(error))
            return
        if user.id in self.batch:
            # A later line for the same user replaces the earlier one, as a second PUT
            # would: write the earlier first, since one upsert cannot touch a row twice.
            await self.flush()
        self.batch[user.id] = user
        if len(self.batch) >= BATCH_SIZE:
            await self.flush()

    async def flush(self) -> None:
        """Start writing the batch once the one before is stored (one session, in order)."""
        await self.written()
        if self.batch:
            self.writing = asyncio.create_task(self._write(list(self.batch.values())))
            self.batch = {}

    async def written(self) -> None:
        if self.writing is not None:
            writing, self.writing = self.writing, None
            await writing

    def abandon(self) -> None:
        if self.writing is not None:
            self.writing.cancel()

    async def _write(self, users: list[BulkUser]) -> None:
        created = await write_batch(session=self.session, users=users, now=utcnow())
        await self.session.commit()
        self.result.created += created
        self.result.updated += len(users) - created


async def load(chunks: AsyncIterator[bytes], *, session: AsyncSession) -> BulkResult:
    run = Load(session)
    try:
        async for number, line in lines(chunks):
            await run.add(number, line)
        await run.flush()
        await run.written()
    finally:
        run.abandon()  # the stream broke off: no write outlives the request's session
    return run.result


# NDJSON has no OpenAPI schema of its own: /docs shows a line as an example.
_BODY = {
    "required": True,
    "content": {MEDIA_TYPE: {"schema": {"type": "string"}, "example": EXAMPLE_LINE}},
}
_routes = APIRouter(prefix="/users", tags=["admin"], responses=refusals(413, 415))


@_routes.post("/bulk", openapi_extra={"requestBody": _BODY})
async def bulk_users(request: Request, session: SessionDep) -> BulkResult:
    """Mirror many users at once: one user a line, as the three PUTs would store it."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MEDIA_TYPE:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Skicka en användare per rad som {MEDIA_TYPE}.",
        )
    return await load(request.stream(), session=session)


def build_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    """The bulk router behind the composition root's admin check."""
    return gated(require_admin, _routes)
