"""hosting (seed 001): hosting_clone_slots, the clones running at once per Proxmox
node; one hosting_vms row per create job

Revision ID: 0007_hosting_vms
Revises: 0006_hosting_services
Create Date: 2026-11-29 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_hosting_vms"
down_revision = "0006_hosting_services"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosting_clone_slots",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", "slot"),
    )
    op.create_index("ux_hosting_vms_job", "hosting_vms", ["job_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_hosting_vms_job", table_name="hosting_vms")
    op.drop_table("hosting_clone_slots")
