"""The Message-ID is made in Python (SQLite's rows, digests, the explanation) and in SQL
(PostgreSQL's fan-out): both forms must give the same id for the same event and user, or
a redelivered event would be mailed twice and an explanation would find no email."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.outbox.message_ids import (
    digest_id,
    message_id,
    message_id_sql,
    user_hash,
)

USER_IDS = ["u-anna", "anna.berg@stockholm.se", "Åsa Öberg", "用户", "x" * 300, "o'brien"]
EVENT_ID = "6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11"


async def test_the_sql_message_id_is_the_python_one(postgresql_only: AsyncEngine) -> None:
    expression = message_id_sql("CAST(:event_id AS text)", "CAST(:user_id AS text)")
    async with postgresql_only.connect() as connection:
        for user_id in USER_IDS:
            made = await connection.scalar(
                text(f"SELECT {expression}"), {"event_id": EVENT_ID, "user_id": user_id}
            )
            assert made == message_id(EVENT_ID, user_id)


@given(st.text(min_size=1, max_size=80))
@settings(max_examples=50)
def test_a_message_id_names_the_user_only_by_a_hash(user_id: str) -> None:
    made = message_id(EVENT_ID, user_id)
    assert made == f"<{EVENT_ID}.{user_hash(user_id)}@statlig-ersattning.invalid>"


@pytest.mark.parametrize("user_id", USER_IDS)
def test_a_digest_id_shares_the_users_hash_and_names_the_day(user_id: str) -> None:
    made = digest_id(user_id, date(2026, 12, 7))
    assert made == f"<digest.{user_hash(user_id)}.2026-12-07@statlig-ersattning.invalid>"
    assert made != digest_id(user_id, date(2026, 12, 8))
