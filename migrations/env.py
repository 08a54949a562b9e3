"""Alembic environment.

`notifier migrate` (and `serve`/`api` on start) hand in a live connection through
`config.attributes["connection"]`. Run by the `alembic` command itself (to autogenerate a
revision), it connects to NOTIFIER_DATABASE_URL.
"""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from notifier.metadata import target_metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from notifier.db import create_engine
    from notifier.settings import Settings

    engine = create_engine(Settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_from_settings())
