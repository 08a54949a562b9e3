"""Conventions the schema must keep: one head, upgrade from empty, models match."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
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


async def test_a_claim_reads_the_due_index_in_its_order_without_a_sort(
    postgresql_engine: AsyncEngine,
) -> None:
    """The sender's claim order (next_attempt_at, id) is the due index's (0012): no sort
    of every row of the first timestamp, however full the outbox. (PostgreSQL's plan;
    SQLite has no planner settings to steer.)"""
    async with postgresql_engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        await connection.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(
            row[0]
            for row in await connection.execute(
                text(
                    "EXPLAIN SELECT id FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 100 "
                    "FOR UPDATE SKIP LOCKED"
                )
            )
        )
    assert "ix_outbox_due" in plan and "Sort" not in plan, plan
