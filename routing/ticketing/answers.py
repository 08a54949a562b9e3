"""Canned answers: the texts staff start an answer from, kept as data (seeded by the
migration from the support page, then managed through the admin API)."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from routing.ticketing.models import CannedAnswer


async def list_answers(*, session: AsyncSession) -> list[CannedAnswer]:
    result = await session.exec(select(CannedAnswer).order_by(col(CannedAnswer.title)))
    return list(result.all())


async def get_answer(*, session: AsyncSession, answer_id: str) -> CannedAnswer | None:
    return await session.get(CannedAnswer, answer_id)


async def put_answer(
    *, session: AsyncSession, answer_id: str, title: str, text: str
) -> tuple[CannedAnswer, bool]:
    """Create or replace; the flag says whether it was created."""
    answer = await session.get(CannedAnswer, answer_id)
    created = answer is None
    if answer is None:
        answer = CannedAnswer(id=answer_id, title=title, text=text)
    answer.title, answer.text, answer.updated_at = title, text, utcnow()
    session.add(answer)
    await session.flush()
    return answer, created


async def delete_answer(*, session: AsyncSession, answer_id: str) -> bool:
    answer = await session.get(CannedAnswer, answer_id)
    if answer is None:
        return False
    await session.delete(answer)
    await session.flush()
    return True
