"""drift and conditions: resource_states (what the platform last applied to each resource it
manages, and what the drift observer last saw of it), and alerts.resource (the resource an alert is
about, for alerts that are not about a job)

Revision ID: 0010_resource_states
Revises: 0009_assistant_integrations
Create Date: 2026-12-06 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_resource_states"
down_revision = "0009_assistant_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_states",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("applied", sa.Text(), nullable=True),
        sa.Column("applied_by_job", sa.String(length=200), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("drift", sa.JSON(), nullable=False),
        sa.Column("drift_alert_key", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("kind", "name"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resource", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resource")
    op.drop_table("resource_states")
