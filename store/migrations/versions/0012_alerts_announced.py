"""alert announcements: alerts.announced_at (when the alert's webhook event went out; null while
it has not, so the next sweep or observation that sees the alert announces it)

Revision ID: 0012_alerts_announced
Revises: 0011_resource_applied_access
Create Date: 2026-12-06 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_alerts_announced"
down_revision = "0011_resource_applied_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    # The alerts raised before: the reaper's went out then, the drift ones were never meant to; an
    # upgrade sends none of them now.
    op.execute("UPDATE alerts SET announced_at = raised_at")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("announced_at")
