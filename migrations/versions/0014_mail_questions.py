"""Questions by email: a ticket's channel (`web` or `email`), the mail's subject, the
support address it came to, and its sender (indexed with the time: replies to a sender
are counted per hour, so two auto-responders cannot loop).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False, server_default="web"))
        batch.add_column(sa.Column("subject", sa.String(200), nullable=True))
        batch.add_column(sa.Column("mailbox", sa.String(320), nullable=True))
        batch.add_column(sa.Column("sender", sa.String(320), nullable=True))
    op.create_index("ix_tickets_sender", "tickets", ["sender", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_sender", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in ("sender", "mailbox", "subject", "channel"):
            batch.drop_column(column)
