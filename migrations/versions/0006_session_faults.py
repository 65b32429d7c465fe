"""Session faults asked of the FIX gateway's fault relay: who asked for which, and what
came of it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "session_faults",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
            autoincrement=True,
        ),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("session_key", sa.String(128), nullable=False),
        sa.Column("fault", sa.String(32), nullable=False),
        sa.Column("amount", sa.Float, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("done_ts", sa.BigInteger, nullable=True),
        sa.Column("refused", sa.Boolean, nullable=True),
        sa.Column("outcome", sa.Text, nullable=True),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("session_faults")
