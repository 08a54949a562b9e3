"""The outbox's indexes hold only the rows their readers look for.

A payment run writes hundreds of thousands of notification rows and then marks each one
sent. Every row was entered in the ticket index, though only ticket forwards carry a
ticket id, and every sent row again in the due index, though only rows still to send (or
held for a digest) are ever looked up there. Each index entry cost the consumer's COPY
about 2 µs a row and the sender's update as much. Now the ticket index holds the rows
with a ticket, and the due index the pending and held ones: a row leaves it once sent.
The index on event_id goes: an email of an event is found by its message id, which is
made from the event and the user (unique, indexed), and retention asks only whether an
event still has pending rows, which the due index answers.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_TICKET = sa.text("ticket_id IS NOT NULL")
LIVE = sa.text("status IN ('pending', 'held')")


def upgrade() -> None:
    op.drop_index("ix_outbox_event_id", table_name="outbox")
    op.drop_index("ix_outbox_ticket_id", table_name="outbox")
    op.create_index(
        "ix_outbox_ticket_id",
        "outbox",
        ["ticket_id"],
        postgresql_where=HAS_TICKET,
        sqlite_where=HAS_TICKET,
    )
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["status", "next_attempt_at"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.drop_index("ix_outbox_ticket_id", table_name="outbox")
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    op.create_index("ix_outbox_event_id", "outbox", ["event_id"])
