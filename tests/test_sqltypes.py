from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import UTCDateTime
from subscriptions.models import User


async def test_datetimes_come_back_aware_utc_on_every_backend(engine: AsyncEngine) -> None:
    stockholm_noon = datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    async with AsyncSession(engine) as session:
        session.add(
            User(
                id="u",
                email="a@b.se",
                name="A",
                org_kind="kommun",
                org_code="0180",
                created_at=stockholm_noon,
            )
        )
        await session.commit()
    async with AsyncSession(engine) as session:
        user = await session.get(User, "u")
    assert user is not None
    assert user.created_at == stockholm_noon
    assert user.created_at.tzinfo is not None and user.created_at.utcoffset() == timedelta(0)
    assert user.created_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), dialect=None)  # type: ignore[arg-type]
