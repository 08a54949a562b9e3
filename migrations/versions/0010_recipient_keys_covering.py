"""The recipient lookup answers from its index alone: recipient_keys carries each
recipient's address, name and delivery next to the level, and on PostgreSQL its primary
key INCLUDEs them.

One event's lookup read a heap page of recipient_keys and a user row (users_pkey, four
pages) per recipient: at 1,000,000 users about 850 pages for 170 recipients. Now it is
one range scan of a few leaf pages. The table is derived, so it is rebuilt here from the
tables it derives from, as subscriptions.lookup builds it.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("org_kind", "org_code", "event_type", "compensation_type", "user_id")
# As subscriptions.lookup.derive builds it, written out: a migration keeps its own SQL.
FILL = """
INSERT INTO recipient_keys
    (org_kind, org_code, event_type, compensation_type, user_id, level, email, name, delivery)
SELECT u.org_kind, u.org_code, s.event_type, g.compensation_type, u.id, g.level,
    u.email, u.name, u.delivery
FROM users u
JOIN subscriptions s ON s.user_id = u.id AND s.enabled
JOIN permission_grants g ON g.user_id = u.id
UNION ALL
SELECT u.org_kind, u.org_code, s.event_type, '', u.id, NULL, u.email, u.name, u.delivery
FROM users u
JOIN subscriptions s ON s.user_id = u.id AND s.enabled
    AND s.event_type = 'service.announcement'
"""
FILL_0009 = """
INSERT INTO recipient_keys
    (org_kind, org_code, event_type, compensation_type, user_id, level)
SELECT u.org_kind, u.org_code, s.event_type, g.compensation_type, u.id, g.level
FROM users u
JOIN subscriptions s ON s.user_id = u.id AND s.enabled
JOIN permission_grants g ON g.user_id = u.id
UNION ALL
SELECT u.org_kind, u.org_code, s.event_type, '', u.id, NULL
FROM users u
JOIN subscriptions s ON s.user_id = u.id AND s.enabled
    AND s.event_type = 'service.announcement'
"""


def upgrade() -> None:
    _drop()
    op.create_table(
        "recipient_keys",
        *_key_columns(),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*KEY, postgresql_include=["level", "email", "name", "delivery"]),
    )
    _indexes()
    op.execute(FILL)


def downgrade() -> None:
    _drop()
    op.create_table(
        "recipient_keys",
        *_key_columns(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*KEY),
    )
    _indexes()
    op.execute(FILL_0009)


def _drop() -> None:
    op.drop_index("ix_recipient_keys_user_id", table_name="recipient_keys")
    op.drop_index("ix_recipient_keys_everywhere", table_name="recipient_keys")
    op.drop_table("recipient_keys")


def _key_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("org_kind", sa.String(length=10), nullable=False),
        sa.Column("org_code", sa.String(length=4), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("compensation_type", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=True),
    ]


def _indexes() -> None:
    op.create_index(
        "ix_recipient_keys_everywhere", "recipient_keys", ["event_type", "compensation_type"]
    )
    op.create_index("ix_recipient_keys_user_id", "recipient_keys", ["user_id"])
