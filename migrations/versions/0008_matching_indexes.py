"""Indexes that let one event's recipient lookup read indexes alone.

Matching walks one organisation's users in (org_kind, org_code, id) and probes each one's
grant (user_id, compensation_type, level) and enabled subscription (user_id, event_type,
enabled); an announcement to all walks (event_type, enabled, user_id). The index on the
grant's type alone goes: with it, PostgreSQL chose to read every holder of the type in the
country and hash them, which grows with all users rather than with the organisation.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_org_id", "users", ["org_kind", "org_code", "id"])
    op.drop_index("ix_users_organisation", table_name="users")
    op.create_index(
        "ix_permission_grants_probe",
        "permission_grants",
        ["user_id", "compensation_type", "level"],
    )
    op.drop_index("ix_permission_grants_type", table_name="permission_grants")
    op.create_index("ix_subscriptions_probe", "subscriptions", ["user_id", "event_type", "enabled"])
    op.drop_index("ix_subscriptions_event_type", table_name="subscriptions")
    op.create_index(
        "ix_subscriptions_event_type", "subscriptions", ["event_type", "enabled", "user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_event_type", table_name="subscriptions")
    op.create_index("ix_subscriptions_event_type", "subscriptions", ["event_type", "enabled"])
    op.drop_index("ix_subscriptions_probe", table_name="subscriptions")
    op.create_index("ix_permission_grants_type", "permission_grants", ["compensation_type"])
    op.drop_index("ix_permission_grants_probe", table_name="permission_grants")
    op.create_index("ix_users_organisation", "users", ["org_kind", "org_code"])
    op.drop_index("ix_users_org_id", table_name="users")
