"""The operators' audit trail: each console action adds one entry in the transaction that
does it, so an action and its entry are committed together or not at all."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.console.models import AuditEntry

TARGET_MAX = 255


async def record(
    *, session: AsyncSession, actor: str, action: str, target: str = "", **detail: Any
) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target[:TARGET_MAX], detail=detail))


async def latest(*, session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    return list((await session.exec(query.limit(limit))).all())
