"""access drift: resource_states.applied_access (the access policy the platform last applied to a
resource, for a Cloud Run service its invoker members; null when it has not recorded one)

Revision ID: 0011_resource_applied_access
Revises: 0010_resource_states
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_resource_applied_access"
down_revision = "0010_resource_states"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resource_states") as batch:
        batch.add_column(sa.Column("applied_access", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resource_states") as batch:
        batch.drop_column("applied_access")
