"""hosting (seed 001): hosting_users, hosting_services, hosting_vms; the recorded job log lines
behind the log stream: job_log_lines, job_log_cursors

Revision ID: 0005_hosting
Revises: 0004_audit
Create Date: 2026-11-28 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_hosting"
down_revision = "0004_audit"
branch_labels = None
depends_on = None

_LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hosting_users",
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("userid"),
    )
    op.create_table(
        "hosting_services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("service_name", sa.String(length=63), nullable=False),
        sa.Column("service_types", sa.JSON(), nullable=False),
        sa.Column("primary_app_type", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("access_url", sa.String(length=500), nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["userid"], ["hosting_users.userid"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_name"),
    )
    op.create_index("ix_hosting_services_user", "hosting_services", ["userid"])
    op.create_table(
        "hosting_vms",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("vm_name", sa.String(length=63), nullable=False),
        sa.Column("os_type", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=True),
        sa.Column("memory_mb", sa.Integer(), nullable=True),
        sa.Column("disksize_gb", sa.Integer(), nullable=True),
        sa.Column("access_url", sa.String(length=500), nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["userid"], ["hosting_users.userid"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hosting_vms_user", "hosting_vms", ["userid"])
    op.create_table(
        "job_log_lines",
        sa.Column("id", _LOG_ID, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "line_no", name="uq_job_log_lines_job_line"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_job_log_lines_job", "job_log_lines", ["job_id", "id"])
    op.create_table(
        "job_log_cursors",
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("last_line", sa.Text(), nullable=True),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
    )


def downgrade() -> None:
    op.drop_table("job_log_cursors")
    op.drop_index("ix_job_log_lines_job", table_name="job_log_lines")
    op.drop_table("job_log_lines")
    op.drop_index("ix_hosting_vms_user", table_name="hosting_vms")
    op.drop_table("hosting_vms")
    op.drop_index("ix_hosting_services_user", table_name="hosting_services")
    op.drop_table("hosting_services")
    op.drop_table("hosting_users")
