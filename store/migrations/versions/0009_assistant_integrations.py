"""assistant (seed 002): learned APIs and their operations, webhooks and their delivery attempts

Revision ID: 0009_assistant_integrations
Revises: 0008_assistant
Create Date: 2026-12-06 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_assistant_integrations"
down_revision = "0008_assistant"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "assistant_learned_apis",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
        sa.UniqueConstraint("job_id"),
    )
    op.create_table(
        "assistant_learned_operations",
        sa.Column("tool_name", sa.String(length=64), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["api_id"], ["assistant_learned_apis.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tool_name"),
    )
    op.create_index(
        "ix_assistant_learned_operations_api", "assistant_learned_operations", ["api_id"]
    )
    op.create_table(
        "assistant_webhooks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assistant_webhook_attempts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=300), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["assistant_webhooks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "attempt", name="uq_assistant_webhook_attempts"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_assistant_webhook_attempts_webhook",
        "assistant_webhook_attempts",
        ["webhook_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_assistant_webhook_attempts_webhook", "assistant_webhook_attempts")
    op.drop_table("assistant_webhook_attempts")
    op.drop_table("assistant_webhooks")
    op.drop_index("ix_assistant_learned_operations_api", "assistant_learned_operations")
    op.drop_table("assistant_learned_operations")
    op.drop_table("assistant_learned_apis")
