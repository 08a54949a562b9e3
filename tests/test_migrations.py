"""Conventions the schema must keep: one head, upgrade from empty, models match."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.db import alembic_config
from notifier.metadata import target_metadata


def test_exactly_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


async def test_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, target_metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_the_outbox_indexes_hold_only_the_rows_their_readers_look_for(
    engine: AsyncEngine,
) -> None:
    """A sent notification is in neither the due index nor the ticket index (0011)."""

    def conditions(connection):  # type: ignore[no-untyped-def]
        indexes = inspect(connection).get_indexes("outbox")
        return {
            index["name"]: str(index.get("dialect_options", {}).get(f"{engine.dialect.name}_where"))
            for index in indexes
        }

    async with engine.connect() as connection:
        found = await connection.run_sync(conditions)
    assert "pending" in found["ix_outbox_due"] and "held" in found["ix_outbox_due"]
    assert "sent" not in found["ix_outbox_due"]
    assert "ticket_id IS NOT NULL" in found["ix_outbox_ticket_id"]
