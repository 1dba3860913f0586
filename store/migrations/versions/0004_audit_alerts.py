"""audit trail and alerts (issue 10): audit_events, alerts

Revision ID: 0004_audit
Revises: 0003_customers
Create Date: 2026-11-25 20:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_audit"
down_revision = "0003_customers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("resource", sa.String(length=300), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_occurred", ["occurred_at"], unique=False)
        batch_op.create_index("ix_audit_events_actor", ["actor_name", "occurred_at"], unique=False)
        batch_op.create_index("ix_audit_events_resource", ["resource", "occurred_at"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("workflow_type", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "job_id", name="uq_alerts_kind_job"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_raised", ["raised_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_raised")
    op.drop_table("alerts")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_resource")
        batch_op.drop_index("ix_audit_events_actor")
        batch_op.drop_index("ix_audit_events_occurred")
    op.drop_table("audit_events")
