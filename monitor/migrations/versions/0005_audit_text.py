"""audit log: reply texts move to audit_text, which retention erases

Revision ID: 0005
Revises: 0004

Entries written before this revision held the reply texts in their JSON detail, where the
append-only triggers kept them forever. They move to audit_text with the triggers lifted for the
move alone; every other field of every entry stays as it was.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TEXT_KEYS = ("before_text", "after_text")


def upgrade() -> None:
    op.create_table(
        "audit_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("before_text", sa.Text(), nullable=True),
        sa.Column("after_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_log.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_id"),
    )
    with op.batch_alter_table("audit_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_text_event_id"), ["event_id"], unique=False)
    _move_texts_out_of_the_log()


def _move_texts_out_of_the_log() -> None:
    bind = op.get_bind()
    moving = []
    for entry_id, event_id, detail in bind.execute(sa.text("SELECT id, event_id, detail FROM audit_log")).all():
        data = _load(detail)
        if any(key in data for key in TEXT_KEYS):
            texts = {key: data.pop(key, None) for key in TEXT_KEYS}
            moving.append((entry_id, event_id, data, texts))
    with _triggers_lifted(bind, bool(moving)):
        for entry_id, event_id, data, texts in moving:
            _set_detail(bind, entry_id, data)
            bind.execute(
                sa.text(
                    "INSERT INTO audit_text (audit_id, event_id, before_text, after_text) "
                    "VALUES (:audit_id, :event_id, :before_text, :after_text)"
                ),
                {"audit_id": entry_id, "event_id": event_id, **texts},
            )


def _load(detail: object) -> dict[str, object]:
    return dict(json.loads(detail) if isinstance(detail, str) else (detail or {}))  # type: ignore[arg-type]


def _set_detail(bind: sa.engine.Connection, entry_id: int, data: dict[str, object]) -> None:
    bind.execute(
        sa.text("UPDATE audit_log SET detail = :detail WHERE id = :id"), {"detail": json.dumps(data), "id": entry_id}
    )


@contextmanager
def _triggers_lifted(bind: sa.engine.Connection, needed: bool) -> Iterator[None]:
    """Lift the append-only UPDATE trigger for the move alone (inside the migration's transaction)."""
    if not needed:
        yield
        return
    postgres = bind.dialect.name == "postgresql"
    lift = (
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
        if postgres
        else "DROP TRIGGER audit_log_no_update"
    )
    op.execute(lift)
    yield
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    """Put the surviving texts back into their entries, so a downgrade loses nothing retention kept."""
    bind = op.get_bind()
    kept = bind.execute(sa.text("SELECT audit_id, before_text, after_text FROM audit_text")).all()
    details: dict[int, object] = dict(bind.execute(sa.text("SELECT id, detail FROM audit_log")).all())
    with _triggers_lifted(bind, bool(kept)):
        for entry_id, before_text, after_text in kept:
            data = _load(details[entry_id])
            data.update(before_text=before_text, after_text=after_text)
            _set_detail(bind, entry_id, data)
    with op.batch_alter_table("audit_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_text_event_id"))
    op.drop_table("audit_text")
