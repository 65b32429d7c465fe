"""Journal records carry the command as a binary frame (nyquestro.codec.frames).

Records written before this migration keep their JSON text in `command` and are read as
before (with the event-stream hash of their time); new ones leave `command` empty and set
`frame`. Each record has exactly one of the two.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # batch mode: SQLite cannot change a column's nullability in place (it copies the table).
    with op.batch_alter_table("journal") as journal:
        journal.alter_column("command", existing_type=sa.Text, nullable=True)
        journal.add_column(sa.Column("frame", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    # Frames cannot become JSON here (that takes the codec); refuse rather than lose them.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM journal WHERE frame IS NOT NULL LIMIT 1")).first():
        raise RuntimeError("the journal holds binary frames: downgrading would lose them")
    with op.batch_alter_table("journal") as journal:
        journal.drop_column("frame")
        journal.alter_column("command", existing_type=sa.Text, nullable=False)
