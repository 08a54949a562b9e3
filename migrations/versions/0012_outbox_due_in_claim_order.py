"""The due index in the order the sender claims: (status, next_attempt_at, id).

A sender claims the first due rows by (next_attempt_at, id). The index held only
(status, next_attempt_at), so PostgreSQL read every row of the first timestamp and sorted
them by id: a consumer batch writes its rows with one timestamp, so each claim of 100
sorted about 8,000 rows (1.5 ms), and a payment run's PostgreSQL spent half a core on it
while the outbox was full. With the id in the index a claim reads its 100 entries in
order and stops (0.07 ms).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status IN ('pending', 'held')")


def upgrade() -> None:
    _due(["status", "next_attempt_at", "id"])


def downgrade() -> None:
    _due(["status", "next_attempt_at"])


def _due(columns: list[str]) -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", columns, postgresql_where=LIVE, sqlite_where=LIVE)
