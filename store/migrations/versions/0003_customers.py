"""customers: per-provisioning status and reason, and the onboarding job that owns the record

Revision ID: 0003_customers
Revises: 0002_crm
Create Date: 2026-11-25 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_customers"
down_revision = "0002_crm"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("jira_status", sa.String(length=16)),
    ("jira_reason", sa.Text()),
    ("litellm_status", sa.String(length=16)),
    ("litellm_reason", sa.Text()),
    ("zenml_status", sa.String(length=16)),
    ("zenml_reason", sa.Text()),
    ("onboarding_job_id", sa.String(length=128)),
)


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, _type in reversed(_COLUMNS):
            batch_op.drop_column(name)
