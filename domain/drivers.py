"""The driver's own connection under a SQLAlchemy one, for the hot paths that write or read
rows through it (COPY, prepared statements) instead of SQLAlchemy's per-row work."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


async def driver(connection: AsyncConnection) -> Any:
    """The asyncpg (or sqlite3) connection of `connection`, in its transaction if one is open."""
    found = (await connection.get_raw_connection()).driver_connection
    assert found is not None
    return found


async def writing_driver(connection: AsyncConnection) -> Any:
    """`driver`, refusing to write outside the session's transaction. On PostgreSQL a query
    before this one opened it (asyncpg's adapter begins it lazily); outside it the rows would
    commit on their own. sqlite3 opens a transaction before the first INSERT; the session's
    commit ends it."""
    found = await driver(connection)
    if connection.dialect.name == "postgresql" and not found.is_in_transaction():
        raise RuntimeError("rows must be written inside the session's transaction")
    return found
