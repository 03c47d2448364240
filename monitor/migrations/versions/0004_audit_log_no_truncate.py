"""audit log: refuse TRUNCATE on PostgreSQL too

Revision ID: 0004
Revises: 0003

The row triggers of 0001 refuse UPDATE and DELETE, but PostgreSQL's TRUNCATE fires no row trigger:
a statement trigger closes that gap. SQLite has no TRUNCATE (its DELETE trigger covers "DELETE FROM").
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
