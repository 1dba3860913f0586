"""hosting Docker services: a service name is unique per user (no longer across users), and a
service keeps its Compose file and the access URL of each published container

Revision ID: 0006_hosting_services
Revises: 0005_hosting
Create Date: 2026-11-30 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_hosting_services"
down_revision = "0005_hosting"
branch_labels = None
depends_on = None

_KEPT = (
    "id, userid, service_name, service_types, primary_app_type, status, access_url, job_id, "
    "created_at, updated_at"
)


def _table(name: str, unique: sa.UniqueConstraint, extra: bool) -> None:
    columns = [
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
    ]
    if extra:
        columns += [
            sa.Column("access_urls", sa.JSON(), nullable=True),
            sa.Column("compose_file", sa.Text(), nullable=True),
        ]
    op.create_table(
        name,
        *columns,
        sa.ForeignKeyConstraint(["userid"], ["hosting_users.userid"]),
        sa.PrimaryKeyConstraint("id"),
        unique,
        # Ids are never reused: Docker resources are named after them.
        sqlite_autoincrement=True,
    )


def _swap(unique: sa.UniqueConstraint, extra: bool) -> None:
    """The table rebuilt (the portable way to change an unnamed constraint, SQLite included),
    its rows copied with their ids."""
    _table("hosting_services_next", unique, extra)
    op.execute(f"INSERT INTO hosting_services_next ({_KEPT}) SELECT {_KEPT} FROM hosting_services")
    op.drop_index("ix_hosting_services_user", table_name="hosting_services")
    op.drop_table("hosting_services")
    op.rename_table("hosting_services_next", "hosting_services")
    op.create_index("ix_hosting_services_user", "hosting_services", ["userid"])
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids are kept: the id sequence continues after them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('hosting_services', 'id'), "
            "COALESCE((SELECT MAX(id) FROM hosting_services), 0) + 1, false)"
        )


def upgrade() -> None:
    _swap(
        sa.UniqueConstraint("userid", "service_name", name="uq_hosting_services_user_name"),
        extra=True,
    )


def downgrade() -> None:
    _swap(sa.UniqueConstraint("service_name"), extra=False)
