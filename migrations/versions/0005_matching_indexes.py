"""Matching scans one organisation's users in (org_kind, org_code, id).

The id in the index lets one event's lookup walk its organisation's users from the index
alone before probing their grant and subscription by primary key (subscriptions.matching).

Revision ID: 0005_matching
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_matching"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_org_id", "users", ["org_kind", "org_code", "id"])
    op.drop_index("ix_users_organisation", table_name="users")


def downgrade() -> None:
    op.create_index("ix_users_organisation", "users", ["org_kind", "org_code"])
    op.drop_index("ix_users_org_id", table_name="users")
